import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import * as v from 'valibot';
import { writeFileAtomic } from '../shared/atomic-write.js';
import { FleetError } from '../shared/errors.js';
import { check, got, isTable, oneOf, type Assert, type Same } from '../shared/schema.js';
import { Z85_KEY } from './curve.js';
import type { Channel } from './messages.js';

/** A connection file's fields, snake_case exactly as Jupyter writes them to disk. */
export interface ConnectionInfo {
  transport: 'tcp' | 'ipc';
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: string;
  kernel_name?: string;
  /** jupyter_client 8.3+ writes the notebook path here (same as JPY_SESSION_NAME). */
  jupyter_session?: string;
  /** The kernel's CurveZMQ pair (Z85), both or neither: its sockets are curve servers (curve.ts). */
  curve_publickey?: string;
  curve_secretkey?: string;
  [extra: string]: unknown;
}

const PORT_FIELDS = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const;

export function portField(channel: Channel): (typeof PORT_FIELDS)[number] {
  return `${channel}_port` as (typeof PORT_FIELDS)[number];
}

const PORT = 'must be a port number 1-65535';
// Never echo a curve key: the secret one decrypts the link.
const CURVE_KEY = 'must be a CurveZMQ key: 40 characters of Z85 text, as zmq.curve_keypair() makes them';
const curveKey = v.pipe(v.string(CURVE_KEY), v.regex(Z85_KEY, CURVE_KEY));
const PAIR = 'the curve keys come as a pair: set both or neither';

const port = v.pipe(v.number(got(PORT)), v.integer(got(PORT)), v.minValue(1, got(PORT)), v.maxValue(65535, got(PORT)));

/**
 * What jupyter_client writes. Fields it may leave out get its defaults; fields we do not know
 * (extra keys a launcher adds, ...) are kept, so a file we rewrite loses nothing.
 */
const ConnectionObjectSchema = v.pipe(
  v.custom<Record<string, unknown>>(isTable, got('must hold a JSON object')),
  v.looseObject(
    {
      transport: v.optional(oneOf(['tcp', 'ipc']), 'tcp'),
      ip: v.optional(v.pipe(v.string(got('must be a non-empty string')), v.nonEmpty(got('must be a non-empty string'))), '127.0.0.1'),
      shell_port: port,
      iopub_port: port,
      stdin_port: port,
      control_port: port,
      hb_port: port,
      // Never echo the key: it signs every message.
      key: v.optional(v.string((issue) => `must be a string, not ${Array.isArray(issue.input) ? 'an array' : typeof issue.input}`), ''),
      signature_scheme: v.optional(v.string(got('must be a string such as "hmac-sha256"')), 'hmac-sha256'),
      // Hints only: one of another type is dropped rather than failing the whole file.
      kernel_name: v.fallback(v.optional(v.string()), undefined),
      jupyter_session: v.fallback(v.optional(v.string()), undefined),
      curve_publickey: v.optional(curveKey),
      curve_secretkey: v.optional(curveKey),
    },
    `is missing: it ${PORT}`,
  ),
);

export const ConnectionInfoSchema = v.pipe(
  ConnectionObjectSchema,
  // A curve secret key alone is no use to anyone: refused in a kernel's file and in a client's view.
  v.forward(
    v.partialCheck([['curve_publickey'], ['curve_secretkey']], (info) => info.curve_secretkey === undefined || info.curve_publickey !== undefined, `is missing: curve_secretkey is set, and ${PAIR}`),
    ['curve_publickey'],
  ),
  v.forward(
    v.partialCheck([['curve_publickey'], ['curve_secretkey']], (info) => info.curve_publickey === undefined || info.curve_secretkey !== undefined, `is missing: curve_publickey is set, and ${PAIR}`),
    ['curve_secretkey'],
  ),
);

/**
 * What a client of the kernel is handed (the fleet manager's handles): the same, except that the
 * kernel's curve secret key is never there (clientConnection), so only a secret without its
 * public key is refused.
 */
export const ClientConnectionSchema = v.pipe(
  ConnectionObjectSchema,
  // A curve secret key alone is no use to anyone: refused in a kernel's file and in a client's view.
  v.forward(
    v.partialCheck([['curve_publickey'], ['curve_secretkey']], (info) => info.curve_secretkey === undefined || info.curve_publickey !== undefined, `is missing: curve_secretkey is set, and ${PAIR}`),
    ['curve_publickey'],
  ),
);

/** Pure: the connection info without the kernel's curve secret key, which only the kernel uses (wire/curve.ts). */
export function clientConnection(info: ConnectionInfo): ConnectionInfo {
  const { curve_secretkey: _secret, ...rest } = info;
  return rest;
}

type _ConnectionInfoShape = Assert<Same<v.InferOutput<typeof ConnectionInfoSchema>, ConnectionInfo>>;

/** Parse and validate; `source` names the file in the error so the user knows what to fix. */
export function parseConnectionInfo(text: string, source = 'connection file'): ConnectionInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new FleetError('BAD_CONNECTION_FILE', `${source} is not valid JSON`, { source }, { cause });
  }
  const checked = check(ConnectionInfoSchema, raw);
  if (checked.ok) return checked.value;
  const { key, message } = checked.problem;
  throw new FleetError('BAD_CONNECTION_FILE', key ? `${source}: ${key} ${message}` : `${source} ${message}`, { source, ...(key ? { field: key } : {}) });
}

export async function readConnectionFile(path: string): Promise<ConnectionInfo> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new FleetError('BAD_CONNECTION_FILE', `cannot read connection file ${path}: ${(cause as Error).message}`, { source: path }, { cause });
  }
  return parseConnectionInfo(text, path);
}

/** Atomic and 0600 (see writeFileAtomic): readers never see half a file or a key they may not read. */
export async function writeConnectionFile(path: string, info: ConnectionInfo): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(info, null, 1) + '\n');
}

/** zeromq endpoint for one channel; ipc follows Jupyter's `<ip>-<port>` path convention. */
export function endpoint(info: Pick<ConnectionInfo, 'transport' | 'ip' | PortFieldName>, channel: Channel): string {
  const port = info[portField(channel)];
  return info.transport === 'ipc' ? `ipc://${info.ip}-${port}` : `tcp://${formatHost(info.ip)}:${port}`;
}
type PortFieldName = (typeof PORT_FIELDS)[number];

function formatHost(ip: string): string {
  return ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
}

/** 32 random bytes as hex, as jupyter_client makes them. */
export function newKey(): string {
  return randomBytes(32).toString('hex');
}
