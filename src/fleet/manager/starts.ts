/**
 * The launch path of the fleet manager: a place of max_backends first (or a refusal), room
 * made by the spare pool for a user's start, then the backend itself (launch.ts) recorded
 * the moment it runs. FleetManager (fleet.ts, state in fleet-parts.ts) owns the state; this
 * part reaches it only through the host it is given.
 */
import type { Logger } from '../../shared/log.js';
import { startupMark } from '../../shared/startup-trace.js';
import { FleetError } from '../../shared/errors.js';
import type { Requirement } from '../../shared/requirement.js';
import type { FleetConfig } from '../types.js';
import { effectiveLimits } from '../limits.js';
import type { FleetCapacity, Reservation } from './capacity.js';
import type { BackendConditions } from './conditions.js';
import type { FleetCounters } from './counters.js';
import type { IdleCulling } from './culling.js';
import type { ManagedBackend } from './entry.js';
import type { SpawnWhere } from './fleet-options.js';
import { launchBackend, type LaunchBackendOptions } from './launch.js';

export interface StartsHost {
  home: string;
  /** The manager's own environment (the requester's provider keys go over it). */
  env: () => LaunchBackendOptions['env'];
  heartbeatGraceMs: number | undefined;
  log: Logger;
  /** The manager is shutting down: no new start. */
  closed: () => boolean;
  config: () => Promise<FleetConfig>;
  /** The spare pool gives up spares for a user's start (pool.ts makeRoom); returns the release. */
  makeRoom: (config: FleetConfig) => Promise<() => void>;
  backends: () => Iterable<ManagedBackend>;
  capacity: FleetCapacity;
  conditions: BackendConditions;
  counters: FleetCounters;
  culling: IdleCulling;
  /** Record a backend that runs (lifecycle.ts). */
  add: (backend: ManagedBackend) => void;
  persist: () => void;
}

export class FleetStarts {
  constructor(private readonly host: StartsHost) {}

  /**
   * `replacing`: the place of the backend a restart replaces (restart op); one that replaces a
   * dead one is found here. Any other start takes a place of max_backends first, or is refused;
   * a user's start first has the pool give up spares to make room (pool.ts makeRoom).
   * `asSpare`: the pool starts it (pool.ts), and marks it before it is recorded.
   */
  async launch(requirement: Requirement, where: SpawnWhere, replacing?: Reservation, asSpare?: (b: ManagedBackend) => void): Promise<ManagedBackend> {
    const { capacity } = this.host;
    if (this.host.closed()) throw new FleetError('MANAGER_UNAVAILABLE', 'the fleet manager is shutting down; retry in a moment', {});
    const config = await this.host.config();
    const room = asSpare === undefined && replacing === undefined ? await this.host.makeRoom(config) : () => undefined;
    try {
      // A backend that is stopping (linger, stop) frees its place in a moment: wait rather than refuse.
      for (let freed = this.#freeing(); replacing === undefined && freed !== undefined && !capacity.fits(config.max_backends); freed = this.#freeing()) await freed;
      // No await between the check and the reservation (capacity.ts): concurrent starts cannot overshoot.
      const place = replacing ?? capacity.reserve({ max: config.max_backends, source: config.source, requirement });
      try {
        return await this.#launchIn(place, config, where, room, asSpare);
      } finally {
        capacity.release(place);
      }
    } finally {
      room();
    }
  }

  /** Settles when one of the backends stopping for good (not replaced by a restart) is gone; undefined if none is. */
  #freeing(): Promise<unknown> | undefined {
    const stopping = [...this.host.backends()].filter((b) => b.state === 'stopping' && !b.replaced);
    return stopping.length > 0 ? Promise.race(stopping.map((b) => b.gone)) : undefined;
  }

  async #launchIn(place: Reservation, config: FleetConfig, where: SpawnWhere, room: () => void, asSpare?: (b: ManagedBackend) => void): Promise<ManagedBackend> {
    const { host } = this;
    const { requirement } = place;
    const restarting = asSpare === undefined && (host.conditions.replacesDead(requirement) || place.replaces !== undefined);
    let spawned: ManagedBackend | undefined;
    const started = performance.now();
    const took = () => (performance.now() - started) / 1000;
    const backend = await launchBackend({
      requirement,
      config,
      home: host.home,
      env: { ...host.env(), ...(where.keys ?? {}) },
      logger: host.log,
      heartbeatGraceMs: host.heartbeatGraceMs,
      cwd: where.cwd,
      onSpawned: (b) => {
        startupMark('backend-spawned');
        spawned = b;
        place.spawned = true;
        room();
        asSpare?.(b);
        host.conditions.restarting(b.kernelId, restarting);
        host.add(b);
      },
    }).catch((error: unknown) => {
      room();
      // It never got ready: a failure to start, said to whoever asked, not a dead backend to list.
      if (spawned !== undefined) host.conditions.forget(spawned.kernelId);
      host.counters.spawned('failed', took());
      throw error;
    });
    startupMark('backend-ready');
    host.counters.spawned('ok', took());
    host.conditions.restarting(backend.kernelId, false);
    // A spare waits for a request by design: its idle clock starts when it is handed out.
    if (asSpare === undefined) host.culling.watch(backend.kernelId, effectiveLimits(config, requirement).idle_cull_seconds);
    host.persist();
    return backend;
  }
}
