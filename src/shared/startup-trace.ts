/**
 * Where start-up time goes, for the bench: with LLMSPELL_FLEET_STARTUP_TRACE naming a file,
 * each phase's first mark is kept (ms since this process started, performance.now()) and
 * written there as one JSON record. A router writes it once its backend is ready; a manager
 * (an autostarted one gets the router's file name plus MANAGER_TRACE_SUFFIX) once it has
 * answered its first acquire. Unset (always, outside the bench), a mark is one comparison.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export type RouterPhase =
  /** main.ts runs: node has started and the CLI's own modules are loaded. */
  | 'cli'
  /** The command's module is loaded and its action begins. */
  | 'action'
  /** The router found no manager and spawned one (cold start only). */
  | 'manager-spawned'
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

/** A manager's phases ('cli' and 'action' as for a router: main.ts runs, the manager command begins). */
export type ManagerPhase =
  /** The manager's socket is bound: routers can connect. */
  | 'manager-listening'
  /** The registry's backends are adopted: requests are served from here on. */
  | 'manager-ready'
  /** A backend was asked for before any router asked (--prewarm). */
  | 'prewarm'
  /** The first acquire request arrived. */
  | 'acquire-received'
  /** The first backend's process was spawned. */
  | 'backend-spawned'
  /** The first backend answered kernel_info. */
  | 'backend-ready'
  /** The answer to the first acquire was written to its router. */
  | 'acquire-answered';

export type StartupPhase = RouterPhase | ManagerPhase;

export interface StartupTrace {
  /** performance.timeOrigin: this process's start, in ms since the epoch. */
  timeOrigin: number;
  /** Node's own bootstrap finished (ms since timeOrigin): where module loading begins. */
  bootstrapComplete: number;
  marks: Partial<Record<StartupPhase, number>>;
  /** CPU time (user + system, ms) this process had used by each mark: work, where wall time also counts waiting for a busy machine. */
  cpu: Partial<Record<StartupPhase, number>>;
}

export const STARTUP_TRACE_VARIABLE = 'LLMSPELL_FLEET_STARTUP_TRACE';
export const MANAGER_TRACE_SUFFIX = '.manager';

/** Pure: the trace file of the manager a router (tracing to `routerFile`) starts. */
export function managerTraceFile(routerFile: string): string {
  return routerFile + MANAGER_TRACE_SUFFIX;
}

const file = process.env[STARTUP_TRACE_VARIABLE] || undefined;
const marks: Partial<Record<StartupPhase, number>> = {};
const cpu: Partial<Record<StartupPhase, number>> = {};

export function startupMark(phase: StartupPhase): void {
  if (file === undefined || marks[phase] !== undefined) return;
  marks[phase] = performance.now();
  const used = process.cpuUsage();
  cpu[phase] = (used.user + used.system) / 1000;
}

/** True while tracing: lets a caller skip work that only feeds the trace. */
export function startupTracing(): boolean {
  return file !== undefined;
}

/** Writes the record (again, with what was marked since, if called again); never throws, as tracing must not stop a kernel. */
export function writeStartupTrace(): void {
  if (file === undefined) return;
  const trace: StartupTrace = { timeOrigin: performance.timeOrigin, bootstrapComplete: performance.nodeTiming.bootstrapComplete, marks, cpu };
  try {
    writeFileSync(file, JSON.stringify(trace), { mode: 0o600 });
  } catch {
    // The bench reports a missing record; the router goes on.
  }
}
