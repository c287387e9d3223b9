import { randomUUID } from 'node:crypto';
import { byteLength, joinFrames, splitFrames, type SignedFrames, type WireParts } from './frames.js';
import { PROTOCOL_VERSION, type ContentOf, type Header } from './messages.js';
import type { ReplayGuard, Signer } from './sign.js';

/** Why an inbound message was refused. Each reason is logged and counted, never forwarded. */
export type RejectReason =
  | 'MISSING_DELIMITER'
  | 'TOO_FEW_FRAMES'
  | 'TOO_LARGE'
  | 'BAD_SIGNATURE'
  | 'REPLAYED_SIGNATURE'
  | 'BAD_JSON'
  | 'BAD_HEADER';

/**
 * A verified message as raw frames. Only the header is parsed, and only when routing asks for
 * it; content, metadata and buffers stay bytes unless someone needs them. `T` is the msg_type
 * when it is known (a reply the client matched), which types `content()`.
 */
export class WireMessage<T extends string = string> {
  #header: Header<string> | undefined;
  #parent: Partial<Header<string>> | undefined;
  constructor(readonly parts: WireParts) {}

  get identities(): readonly Buffer[] { return this.parts.identities; }
  get buffers(): readonly Buffer[] { return this.parts.buffers; }

  get header(): Header<string> {
    return (this.#header ??= JSON.parse(this.parts.signed[0].toString('utf8')) as Header<string>);
  }
  get msgType(): T { return this.header.msg_type as T; }
  get msgId(): string { return this.header.msg_id; }
  /** `{}` for a null parent_header (llmspell sends null; the spec says an empty dict). */
  get parentHeader(): Partial<Header<string>> {
    return (this.#parent ??= (JSON.parse(this.parts.signed[1].toString('utf8')) as Partial<Header<string>> | null) ?? {});
  }
  metadata<M = Record<string, unknown>>(): M { return JSON.parse(this.parts.signed[2].toString('utf8')) as M; }
  content<C = ContentOf<T>>(): C { return JSON.parse(this.parts.signed[3].toString('utf8')) as C; }

  /** Same message with other routing ids (or topic); frames are shared, not copied. */
  withIdentities(identities: readonly Buffer[]): WireMessage<T> {
    const m = new WireMessage<T>({ ...this.parts, identities });
    m.#header = this.#header;
    m.#parent = this.#parent;
    return m;
  }

  /** Same header, parent, metadata and routing ids with other content; signed again on send. */
  withContent(content: object): WireMessage<T> {
    const [h, p, m] = this.parts.signed;
    const out = new WireMessage<T>({ ...this.parts, signed: [h, p, m, Buffer.from(JSON.stringify(content))] });
    out.#header = this.#header;
    out.#parent = this.#parent;
    return out;
  }
}

export interface DecodeOptions {
  signer: Signer;
  replay?: ReplayGuard;
  /** Largest accepted message in bytes, all frames counted. Default: no limit. */
  maxBytes?: number;
}

export type DecodeResult =
  | { readonly ok: true; readonly msg: WireMessage }
  | {
      readonly ok: false;
      readonly reason: RejectReason;
      /** TOO_LARGE only: the size, and the message when it was properly signed (so its sender can be told). */
      readonly bytes?: number;
      readonly msg?: WireMessage;
    };

/**
 * Verify before anything else: an unverified message must never be signed for the next hop.
 * The header is parsed here (it is small and routing needs msg_type anyway) so that a message
 * whose header is not JSON or lacks msg_type is refused at the door rather than mid-relay.
 * Size is checked first and always wins; a signed oversized message still comes back (as `msg`)
 * so the router can answer it with an error instead of leaving its sender waiting.
 */
export function decode(frames: readonly Buffer[], options: DecodeOptions): DecodeResult {
  if (options.maxBytes !== undefined) {
    const bytes = byteLength(frames);
    if (bytes > options.maxBytes) {
      const verified = verifyAndParse(frames, options);
      return verified.ok ? { ok: false, reason: 'TOO_LARGE', bytes, msg: verified.msg } : { ok: false, reason: 'TOO_LARGE', bytes };
    }
  }
  return verifyAndParse(frames, options);
}

function verifyAndParse(frames: readonly Buffer[], options: DecodeOptions): DecodeResult {
  const split = splitFrames(frames);
  if (!split.ok) return split;
  const { parts } = split;
  if (!options.signer.verify(parts.signature, parts.signed)) return { ok: false, reason: 'BAD_SIGNATURE' };
  if (options.replay && options.signer.enabled && !options.replay.admit(parts.signature)) {
    return { ok: false, reason: 'REPLAYED_SIGNATURE' };
  }
  const msg = new WireMessage(parts);
  let header: unknown;
  try {
    header = msg.header;
    // parent_header must be JSON too: clients parse it to match replies.
    void msg.parentHeader;
  } catch {
    return { ok: false, reason: 'BAD_JSON' };
  }
  if (typeof header !== 'object' || header === null || typeof (header as Header<string>).msg_type !== 'string' || typeof (header as Header<string>).msg_id !== 'string') {
    return { ok: false, reason: 'BAD_HEADER' };
  }
  return { ok: true, msg };
}

/** Frames for the next hop: same bytes, a signature made with that hop's key. */
export function encode(msg: WireMessage, signer: Signer, identities: readonly Buffer[] = msg.identities): Buffer[] {
  const { signed, buffers } = msg.parts;
  return joinFrames(identities, signer.sign(signed), signed, buffers);
}

export interface CreateMessageOptions<T extends string = string> {
  msgType: T;
  content: unknown;
  session: string;
  parentHeader?: object;
  metadata?: object;
  identities?: readonly Buffer[];
  buffers?: readonly Buffer[];
  /** Default 'llmspell-fleet'. */
  username?: string;
}

/** A new message we speak ourselves (the router's own replies and statuses, a client's requests). */
export function createMessage<T extends string>(options: CreateMessageOptions<T>): WireMessage<T> {
  const header: Header<T> = {
    msg_id: randomUUID(),
    msg_type: options.msgType,
    session: options.session,
    username: options.username ?? 'llmspell-fleet',
    date: new Date().toISOString(),
    version: PROTOCOL_VERSION,
  };
  const signed: SignedFrames = [
    Buffer.from(JSON.stringify(header)),
    Buffer.from(JSON.stringify(options.parentHeader ?? {})),
    Buffer.from(JSON.stringify(options.metadata ?? {})),
    Buffer.from(JSON.stringify(options.content ?? {})),
  ];
  return new WireMessage<T>({ identities: options.identities ?? [], signature: Buffer.alloc(0), signed, buffers: options.buffers ?? [] });
}
