/**
 * Pure: what a backend's limits become in a cgroup (which file gets which value, v1 and v2),
 * where a backend's cgroup lives, how the cgroup's own counters read, and what they say about
 * a death. The I/O is in cgroup.ts; nothing here touches the file system.
 */
import type { BackendLimits } from '../types.js';

export type CgroupVersion = 'v1' | 'v2';

/** v1 controllers a backend's cgroup is made in: memory and pids also for their events, cpuacct for CPU time. */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'pids'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];
/** v2 controllers that must be enabled down to the backend's cgroup. */
export const V2_CONTROLLERS = ['memory', 'cpu', 'pids'] as const;

/** The CFS period the quota is a share of: 100 ms, the kernel's default. */
export const CPU_PERIOD_US = 100_000;

/** Default parent of every backend's cgroup, below the manager's own cgroup. */
export const DEFAULT_CGROUP_PARENT = 'llmspell-fleet';

/** One value to write. `controller` is the v1 hierarchy; in v2 every file is in the one directory. */
export interface CgroupSetting {
  controller: V1Controller | 'unified';
  file: string;
  value: string;
}

const MB = 1024 * 1024;

export function memoryBytes(limits: BackendLimits): number | undefined {
  return limits.memory_mb === undefined ? undefined : Math.round(limits.memory_mb * MB);
}

/**
 * The files to write, in order (v1 needs memory.limit_in_bytes before memsw, which may not be
 * lower). `memsw`: v1 has swap accounting; then swap counts against the same limit, so a
 * backend cannot slip past memory_mb by swapping. v2 turns its swap off for the same reason.
 */
export function cgroupSettings(version: CgroupVersion, limits: BackendLimits, options: { memsw?: boolean } = {}): CgroupSetting[] {
  const out: CgroupSetting[] = [];
  const bytes = memoryBytes(limits);
  const quota = limits.cpus === undefined ? undefined : Math.max(1000, Math.round(limits.cpus * CPU_PERIOD_US));
  if (version === 'v1') {
    if (bytes !== undefined) {
      out.push({ controller: 'memory', file: 'memory.limit_in_bytes', value: String(bytes) });
      if (options.memsw === true) out.push({ controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(bytes) });
    }
    if (quota !== undefined) {
      out.push({ controller: 'cpu', file: 'cpu.cfs_period_us', value: String(CPU_PERIOD_US) });
      out.push({ controller: 'cpu', file: 'cpu.cfs_quota_us', value: String(quota) });
    }
    if (limits.pids !== undefined) out.push({ controller: 'pids', file: 'pids.max', value: String(limits.pids) });
    return out;
  }
  if (bytes !== undefined) {
    out.push({ controller: 'unified', file: 'memory.max', value: String(bytes) });
    out.push({ controller: 'unified', file: 'memory.swap.max', value: '0' });
  }
  if (quota !== undefined) out.push({ controller: 'unified', file: 'cpu.max', value: `${quota} ${CPU_PERIOD_US}` });
  if (limits.pids !== undefined) out.push({ controller: 'unified', file: 'pids.max', value: String(limits.pids) });
  return out;
}

/** Where a counter is read, per version: [controller, file, key in a flat-keyed file or undefined for a bare number]. */
export const COUNTERS = {
  v1: {
    memoryUsage: ['memory', 'memory.usage_in_bytes', undefined],
    oomKills: ['memory', 'memory.oom_control', 'oom_kill'],
    pidsMaxHits: ['pids', 'pids.events', 'max'],
    pidsCurrent: ['pids', 'pids.current', undefined],
    // nanoseconds
    cpuUsage: ['cpuacct', 'cpuacct.usage', undefined],
  },
  v2: {
    memoryUsage: ['unified', 'memory.current', undefined],
    oomKills: ['unified', 'memory.events', 'oom_kill'],
    pidsMaxHits: ['unified', 'pids.events', 'max'],
    pidsCurrent: ['unified', 'pids.current', undefined],
    // microseconds
    cpuUsage: ['unified', 'cpu.stat', 'usage_usec'],
  },
} as const satisfies Record<CgroupVersion, Record<string, readonly [V1Controller | 'unified', string, string | undefined]>>;
export type CounterName = keyof (typeof COUNTERS)['v1'];

/** CPU usage as read from COUNTERS.cpuUsage, in seconds. */
export function cpuSeconds(version: CgroupVersion, raw: number): number {
  return version === 'v1' ? raw / 1e9 : raw / 1e6;
}

/** Pure: "oom_kill 3" style files (memory.oom_control, memory.events, pids.events, cpu.stat) to numbers. */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === undefined || value === undefined) continue;
    const n = Number(value);
    if (Number.isFinite(n)) out[key] = n;
  }
  return out;
}

/** One counter's value from its file's text; undefined when the file does not carry it. */
export function readCounter(text: string, key: string | undefined): number | undefined {
  if (key === undefined) {
    const n = Number(text.trim());
    return text.trim() !== '' && Number.isFinite(n) ? n : undefined;
  }
  return parseFlatKeyed(text)[key];
}

/**
 * Pure: /proc/self/cgroup → the manager's own cgroup per v1 controller, and its v2 path ("0::").
 * A line may name several controllers ("4:cpu,cpuacct:/x").
 */
export function parseProcCgroup(text: string): { v1: Partial<Record<string, string>>; v2: string | undefined } {
  const v1: Partial<Record<string, string>> = {};
  let v2: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (m === null) continue;
    const [, id, controllers, path] = m as unknown as [string, string, string, string];
    if (id === '0' && controllers === '') v2 = path;
    else for (const c of controllers.split(',')) if (c !== '') v1[c] = path;
  }
  return { v1, v2 };
}

/** Pure: the backend's cgroup path below a hierarchy's mount, nested under the manager's own cgroup. */
export function backendCgroupPath(own: string, parent: string, kernelId: string): string {
  const base = own === '/' ? '' : own.replace(/\/+$/, '');
  return `${base}/${parent}/${kernelId}`;
}

/** Pure: a cgroup parent name from the environment; only a plain relative path is accepted. */
export function cgroupParent(env: Record<string, string | undefined>): string {
  const raw = env.LLMSPELL_FLEET_CGROUP_PARENT;
  if (raw === undefined || raw === '') return DEFAULT_CGROUP_PARENT;
  if (!/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(raw) || raw.split('/').some((p) => p === '.' || p === '..')) {
    throw new TypeError(`LLMSPELL_FLEET_CGROUP_PARENT must be a relative path of plain names (letters, digits, _ . -), got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/**
 * argv that joins the cgroup(s) and then becomes the backend: the wrapper writes its own pid
 * into each cgroup.procs and execs argv, so the kernel's first instruction already runs inside
 * the cgroup and nothing it forks can escape. argv and the paths are positional parameters of
 * a constant script, never parsed by the shell; a failed join exits 126 before argv runs.
 */
export function joinCgroupArgv(procsFiles: readonly string[], argv: readonly string[]): string[] {
  const script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 126; shift; done; shift; exec "$@"';
  return ['/bin/sh', '-c', script, 'llmspell-fleet-cgroup-join', ...procsFiles, '--', ...argv];
}

/** What ended a backend, as far as its limits can tell. */
export interface LimitVerdict {
  reason: 'memory-limit' | 'pids-limit' | 'cpu-time-limit';
  cause: string;
}

export interface VerdictInput {
  limits: BackendLimits;
  /** The manager stopped it on purpose (not for a limit). */
  requested: boolean;
  /** The signal that ended it, when known (an adopted backend's is not). */
  signal: string | null;
  exitCode: number | null;
  /** The cgroup's OOM kills and fork refusals over its life. */
  oomKills: number;
  pidsMaxHits: number;
  /** Set when the manager stopped it for using up cpu_seconds. */
  cpuTimeUsedUp: boolean;
}

/**
 * Pure: the limit that ended a backend, or undefined when none did. Memory: the cgroup's own
 * OOM killer acted and the backend died of SIGKILL (or of an unknown signal, when adopted);
 * pids: forks were refused and the backend died on its own, not with a clean exit.
 */
export function limitVerdict(input: VerdictInput): LimitVerdict | undefined {
  const { limits } = input;
  if (input.cpuTimeUsedUp) return { reason: 'cpu-time-limit', cause: `stopped: cpu time limit ${limits.cpu_seconds ?? '?'} s used up` };
  if (input.requested) return undefined;
  const unknownEnd = input.signal === null && input.exitCode === null;
  if (input.oomKills > 0 && (input.signal === 'SIGKILL' || unknownEnd)) {
    return { reason: 'memory-limit', cause: `killed: memory limit ${limits.memory_mb ?? '?'} MB reached` };
  }
  if (input.pidsMaxHits > 0 && input.exitCode !== 0) {
    return { reason: 'pids-limit', cause: `ended after its process limit (pids ${limits.pids ?? '?'}) refused a new process or thread` };
  }
  return undefined;
}

/** Pure: the percent of memory_mb in use, or undefined without a memory limit. */
export function memoryPercent(usageBytes: number, limits: BackendLimits): number | undefined {
  const bytes = memoryBytes(limits);
  return bytes === undefined || bytes <= 0 ? undefined : (usageBytes / bytes) * 100;
}

/** Pure: /proc/self/mounts → v1 hierarchies by controller, and cgroup2 mount points. */
export function parseCgroupMounts(text: string): { v1: Partial<Record<string, string>>; v2: string[] } {
  const v1: Partial<Record<string, string>> = {};
  const v2: string[] = [];
  for (const line of text.split('\n')) {
    const [, mountPoint, type, options] = line.split(' ');
    if (mountPoint === undefined || options === undefined) continue;
    if (type === 'cgroup2') v2.push(mountPoint);
    else if (type === 'cgroup') for (const option of options.split(',')) v1[option] ??= mountPoint;
  }
  return { v1, v2 };
}
