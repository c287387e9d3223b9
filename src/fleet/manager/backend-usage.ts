/**
 * One backend's usage for the router's usage_reply: its process family (proc-usage.ts) and its
 * host (host-usage.ts). The manager's `usage` op and a local router's own backend share it; in
 * the manager, `list` and /metrics read the same family measure through the same FamilySampler.
 */
import { availableParallelism, cpus, hostname } from 'node:os';
import type { BackendUsage } from '../../shared/backend.js';
import { MIN_INTERVAL_MS, type CpuPercent } from './cpu-percent.js';
import { readHostCpuTimes, readVirtualMemory, type HostCpu } from './host-usage.js';
import { readFamilyUsages, type GroupUsage } from './proc-usage.js';

/** One reading of the families asked for; `at`: when (ms since the epoch), for CPU %. */
export interface FamilyReading {
  at: number;
  usage: ReadonlyMap<number, GroupUsage>;
}

export interface FamilySamplerOptions {
  /** Default: /proc (readFamilyUsages). */
  read?: (leaders: readonly number[]) => Map<number, GroupUsage>;
  now?: () => number;
  /** How long a reading serves. Default MIN_INTERVAL_MS: CPU % is not taken over less either. */
  tickMs?: number;
}

/**
 * The family measure, read at most once per sampling tick: a list, a scrape and a usage_request
 * within one tick share one walk of /proc and report the same figures. A reading serves only
 * callers that ask for families it measured (a backend started since gets a fresh one).
 */
export class FamilySampler {
  #last: (FamilyReading & { leaders: ReadonlySet<number> }) | undefined;

  constructor(private readonly options: FamilySamplerOptions = {}) {}

  read(leaders: readonly number[]): FamilyReading {
    const now = (this.options.now ?? Date.now)();
    const last = this.#last;
    const tickMs = this.options.tickMs ?? MIN_INTERVAL_MS;
    if (last !== undefined && now - last.at < tickMs && now >= last.at && leaders.every((l) => last.leaders.has(l))) return last;
    const usage = (this.options.read ?? readFamilyUsages)(leaders);
    this.#last = { at: now, usage, leaders: new Set(leaders) };
    return this.#last;
  }
}

export interface UsageSamplers {
  /** Per-backend CPU % between measurements (the manager's is list's too). */
  cpu: CpuPercent;
  host: HostCpu;
  families: FamilySampler;
}

/**
 * The backend's family: its group and whatever its members started in groups of their own.
 * Undefined when the group led by `pid` has no process left. `startedAt`: ms since epoch, for the first CPU figure.
 */
export function measureBackend(samplers: UsageSamplers, backend: { kernelId: string; pid: number; startedAt: number }): BackendUsage | undefined {
  const reading = samplers.families.read([backend.pid]);
  const family = reading.usage.get(backend.pid);
  if (family === undefined) return undefined;
  const hostTimes = readHostCpuTimes();
  const memory = readVirtualMemory();
  return {
    pid: backend.pid,
    hostname: hostname(),
    processes: family.processes,
    residentBytes: family.residentBytes,
    cpuPercent: samplers.cpu.sample(backend.kernelId, family.cpuSeconds, reading.at, backend.startedAt),
    ...(hostTimes === undefined ? {} : { hostCpuPercent: samplers.host.sample(hostTimes) }),
    // psutil.cpu_count(logical=True): every logical CPU, as os.cpus() lists them (availableParallelism when none are listed).
    cpuCount: cpuCount(),
    ...(memory === undefined ? {} : { hostVirtualMemory: { ...memory } }),
  };
}

function cpuCount(): number {
  return cpus().length || availableParallelism();
}
