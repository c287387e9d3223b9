/**
 * One backend's usage for the router's usage_reply: its process group (proc-usage.ts) and its
 * host (host-usage.ts). The manager's `usage` op and a local router's own backend share it.
 */
import { availableParallelism, cpus, hostname } from 'node:os';
import type { BackendUsage } from '../../shared/backend.js';
import type { CpuPercent } from './cpu-percent.js';
import { readHostCpuTimes, readVirtualMemory, type HostCpu } from './host-usage.js';
import { readFamilyUsage } from './proc-usage.js';

export interface UsageSamplers {
  /** Per-backend CPU % between measurements. */
  cpu: CpuPercent;
  host: HostCpu;
}

/**
 * The backend's group and whatever its members started in groups of their own (familyUsage).
 * Undefined when the group led by `pid` has no process left. `startedAt`: ms since epoch, for the first CPU figure.
 */
export function measureBackend(samplers: UsageSamplers, backend: { kernelId: string; pid: number; startedAt: number }): BackendUsage | undefined {
  const group = readFamilyUsage(backend.pid);
  if (group === undefined) return undefined;
  const now = Date.now();
  const hostTimes = readHostCpuTimes();
  const memory = readVirtualMemory();
  return {
    pid: backend.pid,
    hostname: hostname(),
    processes: group.processes,
    residentBytes: group.residentBytes,
    cpuPercent: samplers.cpu.sample(backend.kernelId, group.cpuSeconds, now, backend.startedAt),
    ...(hostTimes === undefined ? {} : { hostCpuPercent: samplers.host.sample(hostTimes) }),
    // psutil.cpu_count(logical=True): every logical CPU, as os.cpus() lists them (availableParallelism when none are listed).
    cpuCount: cpuCount(),
    ...(memory === undefined ? {} : { hostVirtualMemory: { ...memory } }),
  };
}

function cpuCount(): number {
  return cpus().length || availableParallelism();
}
