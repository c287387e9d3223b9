/**
 * Resource use of a backend's process family: its process group and whatever its members
 * started, even in a group of their own (the llmspell adapter starts llmspell as a group
 * leader, so that it can signal it alone). list, /metrics and usage_request all count this one
 * measure (backend-usage.ts reads it at most once per sampling tick for all of them); nothing
 * samples in the background. The family is found by walking down from the group's leader
 * (/proc/<pid>/task/<tid>/children), so a read costs a few files per member and stays flat
 * however many other processes the host runs (a scan of all of /proc per read costs with the
 * host's processes: the polling issue #9 says burned whole cores on busy hosts). Parsing and
 * the walk are pure, and the reading goes through a ProcSource, so a synthetic /proc serves tests.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readProc, rssBytes } from './proc.js';

/**
 * USER_HZ: the unit of utime/stime in /proc/<pid>/stat. Fixed at 100 in the kernel's user ABI
 * on every architecture Linux runs Node on, whatever CONFIG_HZ is.
 */
export const CLOCK_TICKS_PER_SECOND = 100;

export interface ProcStatLine {
  pid: number;
  /** Its parent: a child that made a process group of its own is still found through it. */
  ppid: number;
  pgrp: number;
  /** user + system CPU time, in clock ticks */
  cpuTicks: number;
}

/** Pure: pid, parent, process group and CPU ticks from /proc/<pid>/stat (fields counted after the last ")", as the command may hold spaces and ")"). */
export function parseStatLine(text: string): ProcStatLine | undefined {
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open));
  // After ")": field 3 (state) is index 0, so field N is index N - 3.
  const f = text.slice(close + 1).trim().split(/\s+/);
  const ppid = Number(f[4 - 3]);
  const pgrp = Number(f[5 - 3]);
  const utime = Number(f[14 - 3]);
  const stime = Number(f[15 - 3]);
  if (![pid, ppid, pgrp, utime, stime].every(Number.isSafeInteger)) return undefined;
  return { pid, ppid, pgrp, cpuTicks: utime + stime };
}

export interface GroupUsage {
  /** Processes in the group (or family) now. */
  processes: number;
  residentBytes: number;
  cpuSeconds: number;
  /** File descriptors its members hold open; only when the source can count them (the real /proc can). */
  openFds?: number;
}

/**
 * Pure: the usage of the group led by `leader` and of every descendant of its members, even one
 * in a group of its own (the llmspell adapter starts llmspell as a group leader, so that it
 * can signal it alone). Undefined when the group has no process left.
 */
export function familyUsage(stats: readonly ProcStatLine[], leader: number, rssOf: (pid: number) => number | undefined, fdsOf?: (pid: number) => number | undefined): GroupUsage | undefined {
  const children = new Map<number, number[]>();
  for (const s of stats) {
    const siblings = children.get(s.ppid);
    if (siblings === undefined) children.set(s.ppid, [s.pid]);
    else siblings.push(s.pid);
  }
  const members = new Set(stats.filter((s) => s.pgrp === leader).map((s) => s.pid));
  if (members.size === 0) return undefined;
  for (const pid of members) for (const child of children.get(pid) ?? []) members.add(child);
  return totalUsage(stats.filter((s) => members.has(s.pid)), rssOf, fdsOf);
}

/** Pure: what these processes hold together; undefined for none. */
function totalUsage(members: readonly ProcStatLine[], rssOf: (pid: number) => number | undefined, fdsOf?: (pid: number) => number | undefined): GroupUsage | undefined {
  if (members.length === 0) return undefined;
  let residentBytes = 0;
  let ticks = 0;
  let fds = 0;
  for (const s of members) {
    residentBytes += rssOf(s.pid) ?? 0;
    ticks += s.cpuTicks;
    if (fdsOf !== undefined) fds += fdsOf(s.pid) ?? 0;
  }
  const usage: GroupUsage = { processes: members.length, residentBytes, cpuSeconds: ticks / CLOCK_TICKS_PER_SECOND };
  if (fdsOf !== undefined) usage.openFds = fds;
  return usage;
}

/**
 * Pure: the family of the backend whose process group `leader` leads: the leader and every
 * descendant, whatever group it is in now. Nobody when `leader` is gone or leads no group (its
 * pid was reused). A member whose parent exited is re-parented out of the tree and missed: a
 * kernel's helpers (language servers, subprocesses) normally end with their parent.
 */
export function walkFamily(leader: number, statOf: (pid: number) => ProcStatLine | undefined, childrenOf: (pid: number) => readonly number[]): ProcStatLine[] {
  const first = statOf(leader);
  if (first === undefined || first.pgrp !== leader) return [];
  const members: ProcStatLine[] = [first];
  const seen = new Set([leader]);
  const todo = [...childrenOf(leader)];
  for (let pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    if (seen.has(pid)) continue;
    seen.add(pid);
    const stat = statOf(pid);
    if (stat === undefined) continue;
    members.push(stat);
    todo.push(...childrenOf(pid));
  }
  return members;
}

/** Pure: the pids in a /proc/<pid>/task/<tid>/children file ("12 34 "). */
export function parseChildren(text: string): number[] {
  return text.split(/\s+/).filter((t) => /^\d+$/.test(t)).map(Number);
}

/** What the family measure reads of /proc; tests give it a synthetic one. */
export interface ProcSource {
  stat(pid: number): ProcStatLine | undefined;
  /** Children of every thread of `pid`; undefined when the kernel has no children files (CONFIG_PROC_CHILDREN). */
  children(pid: number): number[] | undefined;
  rss(pid: number): number | undefined;
  /** Open file descriptors of `pid` (entries in /proc/<pid>/fd); a source without it counts none. */
  fds?(pid: number): number | undefined;
  /** Every pid in /proc (the scan, when children cannot be read). */
  pids(): number[];
}

/**
 * Pure given the source: familyUsage of each leader, by walking down from it, or from one scan
 * of every process when the source has no children files. A leader with no process left is absent.
 */
export function familyUsages(leaders: readonly number[], source: ProcSource): Map<number, GroupUsage> {
  const out = new Map<number, GroupUsage>();
  let noChildrenFiles = false;
  const childrenOf = (pid: number): number[] => {
    const children = source.children(pid);
    if (children === undefined) noChildrenFiles = true;
    return children ?? [];
  };
  const rssOf = (pid: number) => source.rss(pid);
  const fdsOf = source.fds === undefined ? undefined : (pid: number) => source.fds?.(pid);
  const walked = new Map([...new Set(leaders)].map((leader) => [leader, walkFamily(leader, (pid) => source.stat(pid), childrenOf)]));
  const scanned = noChildrenFiles ? scanStats(source) : undefined;
  for (const [leader, family] of walked) {
    const usage = scanned !== undefined ? familyUsage(scanned, leader, rssOf, fdsOf) : totalUsage(family, rssOf, fdsOf);
    if (usage !== undefined) out.set(leader, usage);
  }
  return out;
}

function scanStats(source: ProcSource): ProcStatLine[] {
  const stats: ProcStatLine[] = [];
  for (const pid of source.pids()) {
    const line = source.stat(pid);
    if (line !== undefined) stats.push(line);
  }
  return stats;
}

/** Children of every thread of `pid` (a thread that forks is the child's parent); undefined when the kernel has no children files. */
function childrenOf(pid: number): number[] | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: number[] = [];
  for (const tid of tids) {
    try {
      out.push(...parseChildren(readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8')));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && tid === String(pid) && existsSync(`/proc/${pid}`)) return undefined;
    }
  }
  return out;
}

/** The real /proc. */
export const liveProc: ProcSource = {
  stat: (pid) => {
    const text = readProc(pid, 'stat');
    return text === undefined ? undefined : parseStatLine(text);
  },
  children: childrenOf,
  rss: rssBytes,
  fds: (pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // Gone, or not ours to read: counted as none.
      return undefined;
    }
  },
  pids: () => readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number),
};

/** The same as liveProc, with no children files: every read scans /proc (what the bench compares the walk with). */
const scanningProc: ProcSource = { ...liveProc, children: () => undefined };

/** Family usage of the backends whose groups `leaders` lead (a backend is spawned as its group's leader). */
export function readFamilyUsages(leaders: readonly number[]): Map<number, GroupUsage> {
  return familyUsages(leaders, liveProc);
}

/** readFamilyUsages from a scan of every process in /proc: the fallback, and what the bench compares the walk with. */
export function scanFamilyUsages(leaders: readonly number[]): Map<number, GroupUsage> {
  return familyUsages(leaders, scanningProc);
}
