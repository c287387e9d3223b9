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
  /** Give the backend back; `stop` asks for it to be stopped (its only user is leaving). */
  release(options: { stop: boolean }): Promise<void>;
}

export interface BackendDirectory {
  acquire(requirement: RequirementRef, options: { signal: AbortSignal }): Promise<BackendLease>;
}
