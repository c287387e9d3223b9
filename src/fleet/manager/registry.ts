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
import * as v from 'valibot';
import { check, describeValue, got, keyPath, oneOf, type Assert, type Same } from '../../shared/schema.js';
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
  if (r.container !== undefined) out.container = { ...r.container };
  if (r.kube !== undefined) out.kube = { ...r.kube };
  if (r.spare !== undefined) out.spare = r.spare;
  if (r.limits !== undefined) out.limits = { ...r.limits };
  if (r.enforcedBy !== undefined) out.enforcedBy = r.enforcedBy;
  return out;
}

export function serializeRegistry(records: readonly BackendRecord[], managerPid: number, now: number = Date.now()): string {
  const file: RegistryFile = { version: REGISTRY_VERSION, managerPid, writtenAt: now, backends: records.map(toRegistryRecord) };
  return JSON.stringify(file, null, 1) + '\n';
}

const whole = (what: string) => v.pipe(v.number(got(what)), v.safeInteger(got(what)));
const text = v.pipe(v.string(got('must be a non-empty string')), v.nonEmpty(got('must be a non-empty string')));
const absolute = v.pipe(text, v.check(isAbsolute, got('must be an absolute path')));

const positive = v.optional(v.pipe(v.number(got('must be a number')), v.minValue(0, got('must be >= 0'))));
const LimitsSchema = v.object(
  { memory_mb: positive, cpus: positive, pids: positive, cpu_seconds: positive, idle_cull_seconds: positive, memory_warn_percent: positive },
  got('must be a table of limits'),
);

/** One record as we write it. Unknown fields are dropped: a registry only ever yields known ones. */
export const BackendRecordSchema = v.object(
  {
    kernelId: v.pipe(text, v.regex(KERNEL_ID, got('must be a backend id'))),
    pid: v.pipe(whole('must be a pid > 1'), v.minValue(2, got('must be a pid > 1'))),
    requirement: v.object({ runtime: text, provider: text, group: v.optional(text) }, got('must be {runtime, provider, group?}')),
    state: oneOf(STATES),
    interruptMode: oneOf(['signal', 'message']),
    connectionFile: absolute,
    logFile: text,
    startedAt: whole('must be a time in ms'),
    ports: v.array(whole('must be a port'), got('must be an array of ports')),
    ip: text,
    attached: v.array(v.object({ routerId: text, pid: whole('must be a pid') }, got('must be {routerId, pid}')), got('must be an array')),
    idleSince: v.optional(v.number(got('must be a time in ms'))),
    procStart: v.optional(whole('must be a start time in clock ticks')),
    cwd: v.optional(absolute),
    container: v.optional(
      v.object(
        { engine: oneOf(['podman', 'docker']), name: v.pipe(text, v.regex(KERNEL_ID, got('must be a container name'))), cgroupParent: v.optional(absolute), memoryMb: v.optional(v.number(got('must be a number of MB'))), memoryWarnPercent: v.optional(v.number(got('must be a percentage'))) },
        got('must be {engine, name, cgroupParent?, memoryMb?, memoryWarnPercent?}'),
      ),
    ),
    kube: v.optional(
      v.object(
        {
          namespace: text,
          pod: text,
          secret: text,
          fleet: text,
          kubeconfig: v.optional(absolute),
          context: v.optional(text),
          memoryMb: v.optional(v.number(got('must be a number of MB'))),
        },
        got('must be {namespace, pod, secret, fleet, kubeconfig?, context?, memoryMb?}'),
      ),
    ),
    spare: v.optional(oneOf(['warming', 'ready'])),
    limits: v.optional(LimitsSchema),
    enforcedBy: v.optional(oneOf(['cgroup-v1', 'cgroup-v2', 'prlimit', 'none'])),
  },
  (issue) => (issue.expected === 'Object' ? `must be a backend record (got ${describeValue(issue.input)})` : 'is missing'),
);
type _BackendRecordShape = Assert<Same<v.InferOutput<typeof BackendRecordSchema>, BackendRecord>>;

/** Pure: whether one parsed entry has the shape of a record we wrote. */
export function isBackendRecord(value: unknown): value is BackendRecord {
  return v.is(BackendRecordSchema, value);
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
  const records: BackendRecord[] = [];
  let firstProblem: string | undefined;
  backends.forEach((entry, index) => {
    const checked = check(BackendRecordSchema, entry);
    if (checked.ok) records.push(checked.value);
    else firstProblem ??= `${keyPath(['backends', index, ...checked.problem.path])} ${checked.problem.message}`;
  });
  const skipped = backends.length - records.length;
  if (skipped === 0) return { records };
  return { records, problem: `${source}: skipped ${skipped} malformed entr${skipped === 1 ? 'y' : 'ies'} (first: ${firstProblem})` };
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
