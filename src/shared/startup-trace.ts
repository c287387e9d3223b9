/**
 * Where a router's start-up time goes, for the bench: with LLMSPELL_FLEET_STARTUP_TRACE naming a
 * file, each phase's first mark is kept (ms since this process started, performance.now()) and
 * written there as one JSON record. Unset (always, outside the bench), a mark is one comparison.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export type StartupPhase =
  /** main.ts runs: node has started and the CLI's own modules are loaded. */
  | 'cli'
  /** The command's module is loaded and its action begins. */
  | 'action'
  /** Config, notebook and project files read, the requirement resolved. */
  | 'planned'
  /** The client-facing sockets are bound. */
  | 'listening'
  /** Connected to the fleet manager (started first if none answered). */
  | 'manager'
  /** The manager (or the local launcher) handed out a backend. */
  | 'acquired'
  /** The backend answered kernel_info and its iopub is live: requests flow. */
  | 'ready';

export interface StartupTrace {
  /** performance.timeOrigin: this process's start, in ms since the epoch. */
  timeOrigin: number;
  /** Node's own bootstrap finished (ms since timeOrigin): where module loading begins. */
  bootstrapComplete: number;
  marks: Partial<Record<StartupPhase, number>>;
  /** CPU time (user + system, ms) this process had used by each mark: work, where wall time also counts waiting for a busy machine. */
  cpu: Partial<Record<StartupPhase, number>>;
}

const file = process.env.LLMSPELL_FLEET_STARTUP_TRACE || undefined;
const marks: Partial<Record<StartupPhase, number>> = {};
const cpu: Partial<Record<StartupPhase, number>> = {};

export function startupMark(phase: StartupPhase): void {
  if (file === undefined || marks[phase] !== undefined) return;
  marks[phase] = performance.now();
  const used = process.cpuUsage();
  cpu[phase] = (used.user + used.system) / 1000;
}

/** Writes the record (once the last phase is marked); never throws, as tracing must not stop a kernel. */
export function writeStartupTrace(): void {
  if (file === undefined) return;
  const trace: StartupTrace = { timeOrigin: performance.timeOrigin, bootstrapComplete: performance.nodeTiming.bootstrapComplete, marks, cpu };
  try {
    writeFileSync(file, JSON.stringify(trace), { mode: 0o600 });
  } catch {
    // The bench reports a missing record; the router goes on.
  }
}
