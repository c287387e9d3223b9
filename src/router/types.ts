import type { BackendLease as Lease, FleetEntry } from '../shared/backend.js';
import type { Requirement } from '../shared/requirement.js';
import type { ConnectionInfo } from '../wire/connection-file.js';

/** The router's lease: the shared shape, with wire's connection info. */
export type BackendLease = Lease<ConnectionInfo>;

/**
 * Where the router gets backends. The router never spawns anything itself: it asks a
 * BackendDirectory (a local launcher, or the fleet manager's client) and gets a lease.
 */
export interface BackendDirectory {
  acquire(requirement: Requirement, options: { signal: AbortSignal }): Promise<BackendLease>;
  /** The whole fleet, where there is one (for `%llmspell list` and `status`). */
  list?(): Promise<FleetEntry[]>;
}
