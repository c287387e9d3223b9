/**
 * `<fleet home>/registry.json`: what the manager knows about its backends, so that a manager
 * that died can be replaced by one that adopts what still runs. Written only by the manager,
 * atomically (tmp + rename, 0600). It holds no HMAC key and no environment: the keys stay in
 * the backends' connection files, the provider env only in the backends' own processes.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../shared/atomic-write.js';
import { SAFE_NAME as KERNEL_ID } from '../../shared/names.js';
import { backendDir } from '../paths.js';
import type { BackendRecord, BackendState } from './protocol.js';

export const REGISTRY_VERSION = 1;

export function registryPath(home: string): string {
  return join(home, 'registry.json');
}

export interface RegistryFile {
  version: typeof REGISTRY_VERSION;
  /** Who wrote it: a reader can tell a live manager's registry from a dead one's. */
  managerPid: number;
  writtenAt: number;
  backends: BackendRecord[];
}

const STATES: readonly BackendState[] = ['starting', 'ready', 'stopping', 'exited'];

/**
 * Pure: a copy with exactly the record's known fields. Whatever else a caller's object carries
 * (a connection with its key, an env) cannot reach the file by accident.
 */
export function toRegistryRecord(r: BackendRecord): BackendRecord {
  const out: BackendRecord = {
    kernelId: r.kernelId,
    pid: r.pid,
    requirement: {
      runtime: r.requirement.runtime,
      provider: r.requirement.provider,
      ...(r.requirement.group !== undefined ? { group: r.requirement.group } : {}),
    },
    state: r.state,
    interruptMode: r.interruptMode,
    connectionFile: r.connectionFile,
    logFile: r.logFile,
    startedAt: r.startedAt,
    ports: [...r.ports],
    ip: r.ip,
    attached: r.attached.map((a) => ({ routerId: a.routerId, pid: a.pid })),
  };
  if (r.idleSince !== undefined) out.idleSince = r.idleSince;
  if (r.procStart !== undefined) out.procStart = r.procStart;
  if (r.cwd !== undefined) out.cwd = r.cwd;
  return out;
}

export function serializeRegistry(records: readonly BackendRecord[], managerPid: number, now: number = Date.now()): string {
  const file: RegistryFile = { version: REGISTRY_VERSION, managerPid, writtenAt: now, backends: records.map(toRegistryRecord) };
  return JSON.stringify(file, null, 1) + '\n';
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0;

/** Pure: whether one parsed entry has the shape of a record we wrote. */
export function isBackendRecord(v: unknown): v is BackendRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const req = r.requirement as Record<string, unknown> | undefined;
  return (
    isStr(r.kernelId) && KERNEL_ID.test(r.kernelId) &&
    isInt(r.pid) && r.pid > 1 &&
    typeof req === 'object' && req !== null && isStr(req.runtime) && isStr(req.provider) &&
    (req.group === undefined || isStr(req.group)) &&
    STATES.includes(r.state as BackendState) &&
    (r.interruptMode === 'signal' || r.interruptMode === 'message') &&
    isStr(r.connectionFile) && isAbsolute(r.connectionFile) &&
    isStr(r.logFile) &&
    isInt(r.startedAt) &&
    Array.isArray(r.ports) && r.ports.every(isInt) &&
    isStr(r.ip) &&
    Array.isArray(r.attached) &&
    (r.procStart === undefined || isInt(r.procStart)) &&
    (r.cwd === undefined || (isStr(r.cwd) && isAbsolute(r.cwd)))
  );
}

export interface RegistryRead {
  records: BackendRecord[];
  /** Set when the file existed but could not be used (fully or in part); the manager logs it. */
  problem?: string;
}

/** Pure: the records in a registry file's text; malformed entries are skipped and reported. */
export function parseRegistry(text: string, source: string): RegistryRead {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { records: [], problem: `${source} is not valid JSON; its backends cannot be adopted` };
  }
  const backends = (raw as Partial<RegistryFile> | null)?.backends;
  if (!Array.isArray(backends)) return { records: [], problem: `${source} has no backends list; its backends cannot be adopted` };
  const records = backends.filter(isBackendRecord).map(toRegistryRecord);
  const skipped = backends.length - records.length;
  return skipped > 0 ? { records, problem: `${source}: skipped ${skipped} malformed entr${skipped === 1 ? 'y' : 'ies'}` } : { records };
}

export async function readRegistry(home: string): Promise<RegistryRead> {
  const file = registryPath(home);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [] };
    return { records: [], problem: `cannot read ${file}: ${(error as Error).message}` };
  }
  return parseRegistry(text, file);
}

/** Atomic (see writeFileAtomic); the caller serialises writes so the last rename carries the newest state. */
export async function writeRegistry(home: string, records: readonly BackendRecord[], managerPid: number = process.pid): Promise<void> {
  await writeFileAtomic(registryPath(home), serializeRegistry(records, managerPid));
}

/**
 * Serialised, coalesced writes for the manager: a write takes the newest snapshot when it
 * runs, so the last rename always carries the newest state, however many changes came in.
 */
export class RegistryWriter {
  #writes: Promise<void> = Promise.resolve();
  #dirty = false;

  constructor(
    private readonly home: string,
    private readonly snapshot: () => BackendRecord[],
    private readonly onError: (error: unknown) => void,
  ) {}

  schedule(): void {
    this.#dirty = true;
    this.#writes = this.#writes.then(async () => {
      if (!this.#dirty) return;
      this.#dirty = false;
      await writeRegistry(this.home, this.snapshot()).catch(this.onError);
    });
  }

  /** Resolves once everything scheduled so far is on disk (or has failed and been reported). */
  flushed(): Promise<void> {
    return this.#writes;
  }
}

/** What the process table says about a recorded pid (see proc.ts). */
export interface Liveness {
  alive: boolean;
  /** Start time of whatever process has the pid now. */
  procStart?: number;
}

export type AdoptDecision =
  | { action: 'adopt'; record: BackendRecord }
  /** `removeFiles`: our backend is certainly gone, so its connection file is litter. */
  | { action: 'forget'; record: BackendRecord; reason: 'dead' | 'pid-reused' | 'unverifiable'; removeFiles: boolean };

/**
 * Pure: adopt a recorded backend only when its pid runs AND is the same incarnation. A live pid
 * with another start time belongs to a stranger now; a live pid without a recorded start time
 * cannot be proven ours, so it is neither adopted (we might signal a stranger later) nor
 * cleaned up after (it might be our backend).
 */
export function decideAdoption(record: BackendRecord, now: Liveness): AdoptDecision {
  if (record.state === 'exited' || !now.alive) return { action: 'forget', record, reason: 'dead', removeFiles: true };
  if (record.procStart === undefined) return { action: 'forget', record, reason: 'unverifiable', removeFiles: false };
  if (now.procStart !== record.procStart) return { action: 'forget', record, reason: 'pid-reused', removeFiles: true };
  return { action: 'adopt', record };
}

/**
 * Pure: only files directly in <home>/backends are ours to delete. A registry is private, but a
 * path read from a file is still never trusted to point somewhere we may remove.
 */
export function isOwnConnectionFile(home: string, path: string): boolean {
  return isAbsolute(path) && dirname(resolve(path)) === resolve(backendDir(home)) && path.endsWith('.json');
}
