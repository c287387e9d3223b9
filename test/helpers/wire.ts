/**
 * Wire-level helpers shared by tests: build signed multiparts with src/wire, load the vectors
 * that a real jupyter_client Session produced, and ask jupyter_client to deserialize frames.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSigner, joinFrames, type SignedFrames } from '../../src/wire/index.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PYTHON = fileURLToPath(new URL('../../.venv/bin/python', import.meta.url));

type Raw = Buffer | string;
const raw = (v: Raw): Buffer => (typeof v === 'string' ? Buffer.from(v, 'utf8') : v);

export interface SignRawOptions {
  key: string;
  scheme?: string;
  /** header, parent_header, metadata, content as bytes (strings are UTF-8 encoded), unparsed. */
  signed: readonly [Raw, Raw, Raw, Raw];
  identities?: readonly Raw[];
  buffers?: readonly Buffer[];
}

/** A multipart with arbitrary (even invalid) JSON frames and a correct signature over them. */
export function signRaw(options: SignRawOptions): Buffer[] {
  const signed = options.signed.map(raw) as unknown as SignedFrames;
  const signature = createSigner(options.key, options.scheme).sign(signed);
  return joinFrames((options.identities ?? []).map(raw), signature, signed, options.buffers ?? []);
}

export interface SignedFramesOptions {
  key: string;
  scheme?: string;
  msgType: string;
  content?: unknown;
  msgId?: string;
  session?: string;
  parentHeader?: object;
  metadata?: object;
  identities?: readonly Raw[];
  buffers?: readonly Buffer[];
}

let counter = 0;

/** A valid, signed Jupyter multipart: [identities..., <IDS|MSG>, hmac, header, parent, metadata, content, buffers...]. */
export function signedFrames(options: SignedFramesOptions): Buffer[] {
  const header = {
    msg_id: options.msgId ?? `test-${process.pid}-${++counter}`,
    msg_type: options.msgType,
    username: 'test',
    session: options.session ?? 'test-session',
    date: new Date().toISOString(),
    version: '5.4',
  };
  return signRaw({
    key: options.key,
    ...(options.scheme !== undefined ? { scheme: options.scheme } : {}),
    signed: [
      JSON.stringify(header),
      JSON.stringify(options.parentHeader ?? {}),
      JSON.stringify(options.metadata ?? {}),
      JSON.stringify(options.content ?? {}),
    ],
    ...(options.identities !== undefined ? { identities: options.identities } : {}),
    ...(options.buffers !== undefined ? { buffers: options.buffers } : {}),
  });
}

export const fromBase64 = (frames: readonly string[]): Buffer[] => frames.map((f) => Buffer.from(f, 'base64'));
export const toBase64 = (frames: readonly Buffer[]): string[] => frames.map((f) => f.toString('base64'));

/** One message of test/fixtures/wire/vectors.json, as jupyter_client's Session.send emitted it. */
export interface WireVector {
  name: string;
  channel: 'shell' | 'control' | 'stdin' | 'iopub';
  scheme: string;
  key: string;
  msg_type: string;
  msg_id: string;
  /** Hex digest Session computed; '' for an empty key. */
  signature: string;
  /** Number of frames before the delimiter. */
  identities: number;
  buffers: number;
  /** Every frame, base64, identities included. */
  frames: string[];
}

export interface BadWireVector {
  name: string;
  scheme: string;
  /** The key the receiver checks with. */
  key: string;
  reason: 'BAD_SIGNATURE';
  /** What Session.deserialize raised for these frames. */
  python_error: string;
  frames: string[];
}

export interface WireVectors {
  generator: { script: string; jupyter_client: string; python: string; packer: string };
  vectors: WireVector[];
  bad: BadWireVector[];
  connection_files: Record<'tcp' | 'ipc', { text: string; urls: Record<'shell' | 'iopub' | 'stdin' | 'control' | 'hb', string> }>;
}

let cached: WireVectors | undefined;
export function loadVectors(): WireVectors {
  return (cached ??= JSON.parse(
    readFileSync(new URL('../fixtures/wire/vectors.json', import.meta.url), 'utf8'),
  ) as WireVectors);
}

export type JupyterDeserializeResult =
  | {
      ok: true;
      msg_id: string;
      msg_type: string;
      identities: string[];
      buffers: string[];
      header: Record<string, unknown>;
      parent_header: Record<string, unknown>;
      metadata: Record<string, unknown>;
      content: Record<string, unknown>;
    }
  | { ok: false; error: string };

const DESERIALIZE = `
import base64, json, sys, logging
logging.disable(logging.WARNING)
from jupyter_client.session import Session
req = json.load(sys.stdin)
def new_session():
    return Session(key=req["key"].encode("utf-8"), signature_scheme=req["scheme"])
s = new_session()
out = []
for frames in req["messages"]:
    if not req["shared"]:
        s = new_session()
    frames = [base64.b64decode(f) for f in frames]
    try:
        idents, rest = s.feed_identities(frames)
        m = s.deserialize(rest)
        out.append({
            "ok": True, "msg_id": m["msg_id"], "msg_type": m["msg_type"],
            "identities": [base64.b64encode(i).decode() for i in idents],
            "buffers": [base64.b64encode(bytes(b)).decode() for b in m["buffers"]],
            "header": m["header"], "parent_header": m["parent_header"],
            "metadata": m["metadata"], "content": m["content"],
        })
    except Exception as e:
        out.append({"ok": False, "error": type(e).__name__ + ": " + str(e)})
json.dump(out, sys.stdout, default=str)
`;

/**
 * Feed multiparts to jupyter_client's Session.deserialize (key, scheme), in order; one Python
 * process per call. Each message gets a fresh Session unless `sharedSession` is set: then one
 * Session sees them all, as a kernel would, and its replay protection applies across the batch.
 */
export function jupyterDeserialize(options: {
  key: string;
  scheme?: string;
  messages: readonly (readonly Buffer[])[];
  sharedSession?: boolean;
}): JupyterDeserializeResult[] {
  const input = JSON.stringify({
    key: options.key,
    scheme: options.scheme ?? 'hmac-sha256',
    shared: options.sharedSession ?? false,
    messages: options.messages.map(toBase64),
  });
  const stdout = execFileSync(PYTHON, ['-c', DESERIALIZE], { input, encoding: 'utf8', cwd: REPO_ROOT, timeout: 60_000 });
  return JSON.parse(stdout) as JupyterDeserializeResult[];
}
