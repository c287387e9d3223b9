import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../shared/atomic-write.js';
import { FleetError } from '../shared/errors.js';
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
  [extra: string]: unknown;
}

const PORT_FIELDS = ['shell_port', 'iopub_port', 'stdin_port', 'control_port', 'hb_port'] as const;

export function portField(channel: Channel): (typeof PORT_FIELDS)[number] {
  return `${channel}_port` as (typeof PORT_FIELDS)[number];
}

/** Parse and validate; `source` names the file in the error so the user knows what to fix. */
export function parseConnectionInfo(text: string, source = 'connection file'): ConnectionInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new FleetError('BAD_CONNECTION_FILE', `${source} is not valid JSON`, { source }, { cause });
  }
  if (typeof raw !== 'object' || raw === null) {
    throw new FleetError('BAD_CONNECTION_FILE', `${source} must hold a JSON object`, { source });
  }
  const o = raw as Record<string, unknown>;
  const transport = o.transport ?? 'tcp';
  if (transport !== 'tcp' && transport !== 'ipc') {
    throw new FleetError('BAD_CONNECTION_FILE', `${source}: transport "${String(transport)}" is not tcp or ipc`, { source });
  }
  const ip = o.ip ?? '127.0.0.1';
  if (typeof ip !== 'string' || ip.length === 0) {
    throw new FleetError('BAD_CONNECTION_FILE', `${source}: ip must be a non-empty string`, { source });
  }
  for (const field of PORT_FIELDS) {
    const v = o[field];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 65535) {
      throw new FleetError('BAD_CONNECTION_FILE', `${source}: ${field} must be a port number 1-65535, got ${JSON.stringify(v)}`, { source, field });
    }
  }
  const key = o.key ?? '';
  if (typeof key !== 'string') throw new FleetError('BAD_CONNECTION_FILE', `${source}: key must be a string`, { source });
  const scheme = o.signature_scheme ?? 'hmac-sha256';
  if (typeof scheme !== 'string') throw new FleetError('BAD_CONNECTION_FILE', `${source}: signature_scheme must be a string`, { source });
  return { ...o, transport, ip, key, signature_scheme: scheme } as ConnectionInfo;
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
