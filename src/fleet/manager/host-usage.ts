/**
 * The host's side of a usage_reply, measured as ipykernel does with psutil: CPU % of the whole
 * machine since the previous measurement (psutil.cpu_percent) and virtual memory from
 * /proc/meminfo (psutil.virtual_memory). Parsing is pure; reading is two small files.
 */
import { readFileSync } from 'node:fs';

/** psutil.virtual_memory()'s fields on Linux, in bytes (percent: %), in psutil's order. */
export interface HostVirtualMemory {
  total: number;
  available: number;
  percent: number;
  used: number;
  free: number;
  active: number;
  inactive: number;
  buffers: number;
  cached: number;
  shared: number;
  slab: number;
}

/** Pure: /proc/meminfo as bytes by field name (the kernel writes kB, meaning KiB). */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([\w()]+):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]) * (line.trimEnd().endsWith('kB') ? 1024 : 1));
  }
  return out;
}

/**
 * Pure: psutil's arithmetic for virtual_memory() on Linux. Undefined without MemTotal and
 * MemFree. Kernels before 3.14 have no MemAvailable: psutil then estimates free + cached.
 */
export function virtualMemory(meminfo: ReadonlyMap<string, number>): HostVirtualMemory | undefined {
  const total = meminfo.get('MemTotal');
  const free = meminfo.get('MemFree');
  if (total === undefined || free === undefined || total <= 0) return undefined;
  const field = (name: string) => meminfo.get(name) ?? 0;
  const buffers = field('Buffers');
  // Reclaimable slab is cache too (psutil and free(1) count it so).
  const cached = field('Cached') + field('SReclaimable');
  const available = Math.min(total, meminfo.get('MemAvailable') ?? free + cached);
  let used = total - free - cached - buffers;
  if (used < 0) used = total - free;
  const percent = Math.round(((total - available) / total) * 1000) / 10;
  return { total, available, percent, used, free, active: field('Active'), inactive: field('Inactive'), buffers, cached, shared: field('Shmem'), slab: field('Slab') };
}

/** CPU time of the whole machine, in clock ticks. */
export interface HostCpuTimes {
  busy: number;
  total: number;
}

/**
 * Pure: the aggregate "cpu" line of /proc/stat. user..steal make the total (guest time is
 * already inside user and nice); idle and iowait are not busy, as psutil counts them.
 */
export function parseHostCpu(procStat: string): HostCpuTimes | undefined {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (f.length < 4 || !f.every(Number.isSafeInteger)) return undefined;
  const total = f.reduce((a, b) => a + b, 0);
  const idle = f[3]! + (f[4] ?? 0);
  return { busy: total - idle, total };
}

/** Pure: the host's CPU % between two readings (100 = every core busy), one decimal as psutil rounds it. */
export function hostCpuPercent(before: HostCpuTimes, now: HostCpuTimes): number {
  const total = now.total - before.total;
  if (total <= 0) return 0;
  return Math.round((Math.max(0, now.busy - before.busy) / total) * 1000) / 10;
}

/**
 * psutil.cpu_percent() without an interval: the host's CPU % since the previous call. The first
 * call has no previous one and measures since boot (psutil answers a meaningless 0 there).
 */
export class HostCpu {
  #last: HostCpuTimes = { busy: 0, total: 0 };
  #percent = 0;

  sample(now: HostCpuTimes): number {
    // A burst of requests within one tick would measure nothing: it gets the last figure.
    if (now.total <= this.#last.total) return this.#percent;
    this.#percent = hostCpuPercent(this.#last, now);
    this.#last = now;
    return this.#percent;
  }
}

export function readHostCpuTimes(): HostCpuTimes | undefined {
  return parseHostCpu(readText('/proc/stat'));
}

export function readVirtualMemory(): HostVirtualMemory | undefined {
  return virtualMemory(parseMeminfo(readText('/proc/meminfo')));
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
