/**
 * The fallback where no cgroup can be written: per-process rlimits set by util-linux's prlimit
 * before it execs the backend. Weaker than a cgroup, and said so: RLIMIT_AS caps address space
 * (not resident memory, so it needs more headroom and surfaces as MemoryError, not a kill),
 * RLIMIT_NPROC counts every process of the user (and does not bind root), RLIMIT_CPU counts
 * per process, and nothing caps a share of the CPU.
 */
import { findSystemExecutable } from '../../shared/which.js';
import type { BackendLimits } from '../types.js';
import { memoryBytes } from './cgroup-layout.js';

/** Pure: prlimit's options for these limits, and what of them it cannot enforce. */
export function prlimitOptions(limits: BackendLimits): { options: string[]; unenforced: string[] } {
  const options: string[] = [];
  const unenforced: string[] = [];
  const bytes = memoryBytes(limits);
  if (bytes !== undefined) options.push(`--as=${bytes}`);
  if (limits.pids !== undefined) options.push(`--nproc=${limits.pids}`);
  // Soft below hard: the kernel sends SIGXCPU at the soft limit (a death we can name), SIGKILL
  // only at the hard one (or at once when they are equal, indistinguishable from a kill from outside).
  if (limits.cpu_seconds !== undefined) options.push(`--cpu=${Math.ceil(limits.cpu_seconds)}:${Math.ceil(limits.cpu_seconds) + 1}`);
  if (limits.cpus !== undefined) unenforced.push('cpus');
  return { options, unenforced };
}

/** Pure: argv that runs `argv` under prlimit (no shell; prlimit execs it). */
export function prlimitArgv(prlimit: string, limits: BackendLimits, argv: readonly string[]): string[] {
  return [prlimit, ...prlimitOptions(limits).options, '--', ...argv];
}

export function findPrlimit(pathValue: string | undefined): Promise<string | undefined> {
  return findSystemExecutable('prlimit', pathValue);
}
