/**
 * A backend as router, fleet and cli see it: how it ended, the lease a router holds on it, and
 * its line in a listing. The router declares what it needs through these shapes and the fleet
 * satisfies them, so neither imports the other.
 */
import type { DetachedOutput, RunningCell } from './detached-output.js';
import type { RelayCounts } from './relay-counts.js';
import type { InterruptMode, Requirement } from './requirement.js';

/** How a backend process ended. `reason` is machine-readable; describeExit (exit.ts) words it. */
export interface BackendExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
  /**
   * 'stopped', 'exited', 'signalled', 'startup-failed', … and, for ends a limit or the fleet
   * caused (issue #10): 'memory-limit', 'pids-limit', 'cpu-time-limit', 'culled'.
   */
  readonly reason: string;
  /**
   * Words for the user when the fleet knows more than the signal says, e.g. "killed: memory
   * limit 512 MB reached" (the SIGKILL came from the cgroup's OOM killer). describeExit prefers it.
   */
  readonly cause?: string;
  /** The last lines the backend wrote, when known: they usually say why it died. */
  readonly stderrTail?: string;
}

/**
 * A backend a router may talk to, handed out by a backend directory (a local launcher or the
 * fleet manager). `Connection` is the backend's connection info (wire's ConnectionInfo): this
 * layer sits below wire, so the type comes in as a parameter.
 */
export interface BackendLease<Connection> {
  readonly kernelId: string;
  readonly pid: number;
  readonly connection: Connection;
  readonly interruptMode: InterruptMode;
  readonly requirement: Requirement;
  /** Settles once when the backend process is gone, for whatever reason. */
  readonly exited: Promise<BackendExit>;
  /** Signal-mode interrupt (SIGINT to the backend's process group). */
  interrupt(): void;
  /**
   * True when other routers may use the same backend (fleet). A shared backend is detached
   * from, not stopped, when this router leaves; an unshared one stops with its router.
   */
  readonly shared?: boolean;
  /**
   * Give the backend back; `stop` asks for it to be stopped (its only user is leaving).
   * `running`: this router's cells still running there, so that whoever sees their output later knows which cells they were.
   */
  release(options: { stop: boolean; running?: RunningCell[] }): Promise<void>;
  /** Fleet: restart the shared backend for everyone attached (shutdown_request restart=true). */
  restart?(): Promise<void>;
  /** Fleet: what the backend printed while no router was attached, handed out once (undefined: nothing). Never rejects. */
  takeDetachedOutput?(): Promise<DetachedOutput | undefined>;
  /** Fleet: another router restarted this backend; `next` is the lease on the new process. */
  onReplaced?(listener: (next: BackendLease<Connection>) => void): void;
  /**
   * Fleet: the backend's iopub went busy or idle (as this router sees it), so that `list` can
   * say so: the manager is not in the data path. Called on each change; the fleet coalesces.
   */
  reportExecutionState?(state: 'busy' | 'idle'): void;
  /**
   * Fleet: where the router counts what it relays for this backend; the fleet reports it to the
   * manager (coalesced deltas), whose totals outlive the router. Without it nothing is reported.
   */
  readonly relayCounts?: RelayCounts;
  /**
   * Fleet: the backend is near a limit (memory at memory_warn_percent, pids refused a fork);
   * `text` is for the cell running there now. Added with limits.
   */
  onWarning?(listener: (text: string) => void): void;
  /**
   * What the fleet measures of the backend's whole process group and its host, for the
   * router's usage_reply (issue #9). Undefined when the group has no process left. Added with usage.
   */
  usage?(): Promise<BackendUsage | undefined>;
}

/**
 * A backend's resource use as the fleet measures it: its whole process group (the kernel and
 * what it started), and the host it runs on, in the units of ipykernel's usage_reply.
 */
export interface BackendUsage {
  /** The backend's pid (its process group's leader). */
  pid: number;
  hostname: string;
  /** Processes in the group now. */
  processes: number;
  /** Resident memory of the group, in bytes. */
  residentBytes: number;
  /** CPU % of the group (100 = one core) since the previous measurement, or over its life at the first. */
  cpuPercent: number;
  /** CPU % of the whole host (100 = every core) since the previous measurement; absent when /proc/stat cannot be read. */
  hostCpuPercent?: number;
  cpuCount: number;
  /** psutil.virtual_memory()'s fields (bytes; percent in %); absent when /proc/meminfo cannot be read. */
  hostVirtualMemory?: Record<string, number>;
}

/** One backend of the fleet, as `%llmspell list` shows it. */
export interface FleetEntry {
  kernelId: string;
  pid: number;
  runtime: string;
  provider: string;
  group?: string;
  /** A BackendCondition word (backend-state.ts): starting, ready, busy, restarting, stopping, dead. */
  state: string;
  clients: number;
}
