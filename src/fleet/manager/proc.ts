/**
 * What the manager needs to know about a process it may not have started itself (an adopted
 * backend has no child handle): is it still the process we recorded, how big is it, and how to
 * signal its group without hitting a stranger that inherited a reused pid. Linux: reads /proc.
 * Synchronous on purpose: /proc reads never block on disk, and interrupt() must stay sync.
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  /** One letter: R running, S sleeping, Z zombie, X dead, ... */
  state: string;
  /** Field 22: start time after boot, in clock ticks. Unique per pid incarnation. */
  startTime: number;
}

/**
 * Pure: parse /proc/<pid>/stat. The command name (field 2) is in parentheses and may itself
 * contain spaces and ")", so fields are counted from the last ")".
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ")": field 3 (state) is index 0, so field N is index N - 3.
  const fields = text.slice(close + 1).trim().split(/\s+/);
  const state = fields[0];
  const startTime = Number(fields[22 - 3]);
  if (state === undefined || state.length !== 1 || !Number.isSafeInteger(startTime)) return undefined;
  return { state, startTime };
}

/** Pure: VmRSS from /proc/<pid>/status, in bytes. Kernel threads and zombies have none. */
export function parseRssBytes(text: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** A /proc file of `pid`; undefined when the process is gone (it may exit between a listing and the read). */
export function readProc(pid: number, file: 'stat' | 'status' | 'environ'): string | undefined {
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return undefined;
  }
}

/** The pid's start time, or undefined when no such process exists or it is a zombie. */
export function procStartTime(pid: number): number | undefined {
  const text = readProc(pid, 'stat');
  const stat = text === undefined ? undefined : parseProcStat(text);
  // A zombie is dead for our purposes: an orphaned one may never be reaped by this machine's init.
  if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return undefined;
  return stat.startTime;
}

/**
 * True while `pid` runs and, when `procStart` is known, is the same incarnation we recorded.
 * Without a recorded start time all we can say is that some process has that pid.
 */
export function isSameProcess(pid: number, procStart: number | undefined): boolean {
  const now = procStartTime(pid);
  if (now === undefined) return false;
  return procStart === undefined || now === procStart;
}

export function rssBytes(pid: number): number | undefined {
  const text = readProc(pid, 'status');
  return text === undefined ? undefined : parseRssBytes(text);
}

/**
 * Signal the process group led by `pid` (backends are spawned detached, so pgid == pid), only
 * after checking it is still the process we recorded. Returns whether the signal was sent.
 * Refuses pids <= 1 and our own group: a corrupt registry must never make us signal init or
 * ourselves.
 */
export function killGroup(pid: number, signal: NodeJS.Signals, procStart: number | undefined): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid) return false;
  if (!isSameProcess(pid, procStart)) return false;
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ESRCH: gone in between; EPERM: the pid was reused by another user's process.
    if (code === 'ESRCH' || code === 'EPERM') return false;
    throw error;
  }
}

/**
 * Pids (other than ours) whose argv contains `needle`. Backends get their connection file's
 * path in argv, so this tells whether a file in the backends dir still belongs to a live
 * kernel that this manager does not know (one a router started on its own, say).
 */
export function processesMentioning(needle: string): number[] {
  if (needle.length === 0) return [];
  const bytes = Buffer.from(needle);
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`).includes(bytes)) found.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}
