import { isUtf8 } from 'node:buffer';
/**
 * Multipart layout of a Jupyter message, and nothing else:
 *   [routing ids or iopub topic..., "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers...]
 * Frames stay as the Buffers zeromq gave us: splitting and joining never copies bytes.
 */
export const DELIMITER = Buffer.from('<IDS|MSG>', 'ascii');

/** The four frames the HMAC covers, in signing order. */
export type SignedFrames = readonly [header: Buffer, parentHeader: Buffer, metadata: Buffer, content: Buffer];

export interface WireParts {
  /** Routing ids on shell/control/stdin, topic on iopub. Never signed. */
  readonly identities: readonly Buffer[];
  readonly signature: Buffer;
  readonly signed: SignedFrames;
  /** Binary buffers after content. Never signed, never copied. */
  readonly buffers: readonly Buffer[];
}

export type SplitResult =
  | { readonly ok: true; readonly parts: WireParts }
  | { readonly ok: false; readonly reason: 'MISSING_DELIMITER' | 'TOO_FEW_FRAMES' };

export function indexOfDelimiter(frames: readonly Buffer[]): number {
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    if (f.length === DELIMITER.length && f.equals(DELIMITER)) return i;
  }
  return -1;
}

export function splitFrames(frames: readonly Buffer[]): SplitResult {
  const d = indexOfDelimiter(frames);
  if (d < 0) return { ok: false, reason: 'MISSING_DELIMITER' };
  if (frames.length < d + 6) return { ok: false, reason: 'TOO_FEW_FRAMES' };
  return {
    ok: true,
    parts: {
      identities: frames.slice(0, d),
      signature: frames[d + 1]!,
      signed: [frames[d + 2]!, frames[d + 3]!, frames[d + 4]!, frames[d + 5]!],
      buffers: frames.slice(d + 6),
    },
  };
}

export function joinFrames(
  identities: readonly Buffer[],
  signature: Buffer,
  signed: SignedFrames,
  buffers: readonly Buffer[],
): Buffer[] {
  return [...identities, DELIMITER, signature, ...signed, ...buffers];
}

/** Total payload size, used to enforce a per-message size limit before any parsing. */
export function byteLength(frames: readonly Buffer[]): number {
  let n = 0;
  for (const f of frames) n += f.length;
  return n;
}

/**
 * zeromq.js sends a Buffer over 128 bytes without copying it, and once zeromq's I/O thread has
 * written it, hands it back to be released on the main thread: one more wake-up of the event
 * loop for every message sent, which on a busy machine costs more than the copy it saves. A
 * string is copied into zeromq and freed on its own thread. So a frame of UTF-8 text up to
 * this size goes as a string (the same bytes: valid UTF-8 decodes and encodes back exactly);
 * larger frames, and any that are not UTF-8 (binary buffers), go as the Buffers they are.
 */
export const COPY_FRAME_MAX = 64 * 1024;
const ZERO_COPY_MIN = 129;

export function sendable(frames: readonly Buffer[]): (Buffer | string)[] {
  const out: (Buffer | string)[] = new Array(frames.length);
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    out[i] = f.length >= ZERO_COPY_MIN && f.length <= COPY_FRAME_MAX && isUtf8(f) ? f.toString('utf8') : f;
  }
  return out;
}
