import type { ConnectionInfo } from '../wire/connection-file.js';
import type { InterruptMode } from './routes.js';

export interface RequirementRef {
  readonly runtime: string;
  readonly provider: string;
  readonly group?: string;
}

export interface BackendExit {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly reason: string;
  /** The last lines the backend wrote, when known: they usually say why it died. */
  readonly stderrTail?: string;
}

/**
 * A backend the router may talk to. The router never spawns anything itself: it asks a
 * BackendDirectory (a local launcher today, the fleet manager next) and gets a lease.
 */
export interface BackendLease {
  readonly kernelId: string;
  readonly pid: number;
  readonly connection: ConnectionInfo;
  readonly interruptMode: InterruptMode;
  readonly requirement: RequirementRef;
  /** Settles once when the backend process is gone, for whatever reason. */
  readonly exited: Promise<BackendExit>;
  /** Signal-mode interrupt (SIGINT to the backend's process group). */
  interrupt(): void;
  /**
   * True when other routers may use the same backend (fleet). A shared backend is detached
   * from, not stopped, when this router leaves; an unshared one stops with its router.
   */
  readonly shared?: boolean;
  /** Give the backend back; `stop` asks for it to be stopped (its only user is leaving). */
  release(options: { stop: boolean }): Promise<void>;
  /** Fleet: restart the shared backend for everyone attached (shutdown_request restart=true). */
  restart?(): Promise<void>;
  /** Fleet: another router restarted this backend; `next` is the lease on the new process. */
  onReplaced?(listener: (next: BackendLease) => void): void;
}

/** One backend of the fleet, as `%llmspell list` shows it. */
export interface FleetEntry {
  kernelId: string;
  pid: number;
  runtime: string;
  provider: string;
  group?: string;
  state: string;
  clients: number;
}

export interface BackendDirectory {
  acquire(requirement: RequirementRef, options: { signal: AbortSignal }): Promise<BackendLease>;
  /** The whole fleet, where there is one (for `%llmspell list` and `status`). */
  list?(): Promise<FleetEntry[]>;
}
