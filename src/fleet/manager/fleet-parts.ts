/**
 * How the fleet manager's parts reach each other. The parts (attachments, lifecycle, launch
 * path, spare pool, restart, culling, capacity, registry) each see the others only through a
 * narrow host; building those hosts is its own concern, kept here so that fleet.ts holds only
 * what the manager offers its socket. The state (backends, starts under way) lives here too,
 * because every host closes over it.
 */
import { silentLogger, type Logger } from '../../shared/log.js';
import { loadFleetConfig } from '../config.js';
import type { FleetConfig } from '../types.js';
import { Attachments } from './attachments.js';
import { DetachedOutputs } from './detached-output.js';
import { BackendConditions } from './conditions.js';
import { FleetCapacity } from './capacity.js';
import { IdleCulling } from './culling.js';
import { FleetCounters } from './counters.js';
import { RelayTotals } from './relay-totals.js';
import type { ManagedBackend, RouterRef } from './entry.js';
import { InflightStarts } from './inflight.js';
import { BackendLifecycle } from './lifecycle.js';
import { SparePool } from './pool.js';
import { stopBackend } from './stopping.js';
import type { RestartHost } from './restart.js';
import { FleetStarts } from './starts.js';
import type { BackendHandle, BackendRecord, ManagerEvent } from './protocol.js';
import { FleetSettings } from './fleet-settings.js';
import { FleetSignals } from './fleet-signals.js';
import { DEFAULT_REATTACH_GRACE_MS, type FleetExit, type FleetManagerOptions } from './fleet-options.js';
import { listBackends } from './fleet-listing.js';
import { RegistryWriter } from './registry.js';

export class FleetParts {
  readonly home: string;
  readonly backends = new Map<string, ManagedBackend>();
  readonly inflight = new InflightStarts<ManagedBackend>();
  readonly restarts = new InflightStarts<BackendHandle>();
  readonly log: Logger;
  readonly attachments: Attachments;
  readonly registry: RegistryWriter | undefined;
  /** Busy, restarting and dead, for `list`. */
  readonly conditions = new BackendConditions();
  readonly detached: DetachedOutputs;
  readonly settings: FleetSettings;
  readonly signals: FleetSignals;
  closed = false;
  /** Spawns, restarts and exits since the manager started (for /metrics). */
  readonly counters = new FleetCounters();
  /** What routers relayed, per backend, from their reports (for /metrics and the dashboard's rate). */
  readonly relay = new RelayTotals();
  readonly pool: SparePool;
  /** max_backends: places held by backends and by starts under way (capacity.ts). */
  readonly capacity = new FleetCapacity({
    live: () => [...this.backends.values()].filter((b) => b.state !== 'exited').length,
    holders: () => listBackends(this).filter((b) => b.state !== 'dead').map((b) => ({ kernelId: b.kernelId, requirement: b.requirement, state: b.state, clients: b.attached.length })),
    onRefused: () => this.counters.spawned('refused'),
  });
  /** idle_cull_seconds: one timer per backend that has one (culling.ts). */
  readonly culling = new IdleCulling({ onCull: (kernelId, cull) => this.lifecycle.cull(kernelId, cull.cullSeconds) });
  readonly lifecycle: BackendLifecycle;
  readonly starts: FleetStarts;
  readonly restartHost: RestartHost = {
    get: (kernelId) => this.backends.get(kernelId),
    conditions: this.conditions,
    attachments: { takeAll: (b) => this.attachments.takeAll(b), attach: (b, r) => this.attachments.attach(b, r), idleIfUnused: (b) => this.attachments.idleIfUnused(b) },
    capacity: this.capacity,
    track: (key, start) => this.inflight.track(key, start),
    stop: (backend, why) => this.stop(backend, why),
    launch: (requirement, where, replacing) => this.starts.launch(requirement, where, replacing),
    emit: (event, to) => this.emit(event, to),
    counters: this.counters,
    durable: (value) => this.durable(value),
    reattachGraceMs: () => this.options.reattachGraceMs ?? DEFAULT_REATTACH_GRACE_MS,
  };

  constructor(readonly options: FleetManagerOptions) {
    this.home = options.home;
    this.log = (options.logger ?? silentLogger()).child({ component: 'fleet' });
    this.settings = new FleetSettings(options.loadConfig ?? (() => loadFleetConfig({ env: this.options.env ?? process.env })));
    this.signals = new FleetSignals(this.log);
    this.detached = new DetachedOutputs({ limits: () => this.settings.replayLimits, logger: this.log });
    this.attachments = new Attachments({
      lingerMs: () => this.settings.lingerSeconds * 1000,
      onChange: () => {
        // A busy router that left may have been the only one: the backend's idle clock may start.
        for (const b of this.backends.values()) this.culling.busy(b.kernelId, this.conditions.isBusy(b.kernelId, b.attached.keys()));
        this.persist();
      },
      onIdleTimeout: (b) => void this.stop(b, 'linger').catch((e: unknown) => this.log.error({ err: String(e) }, 'linger stop failed')),
      onAttended: (b) => {
        this.detached.unwatch(b.kernelId);
        this.culling.touched(b.kernelId);
      },
      // With no linger the backend stops now: there is nobody to keep its output for.
      onUnattended: (b) => {
        if (this.settings.lingerSeconds > 0) this.detached.watch(b);
      },
    });
    const live = () => [...this.backends.values()].filter((b) => b.state !== 'exited').map((b) => b.record());
    const failed = (error: unknown) => this.log.error({ err: String(error) }, 'cannot write registry.json');
    this.registry = options.persist === false ? undefined : new RegistryWriter(this.home, live, failed);
    this.lifecycle = new BackendLifecycle({
      log: this.log,
      closed: () => this.closed,
      get: (kernelId) => this.backends.get(kernelId),
      set: (backend) => this.backends.set(backend.kernelId, backend),
      delete: (kernelId) => this.backends.delete(kernelId),
      conditions: this.conditions,
      culling: this.culling,
      counters: this.counters,
      relay: this.relay,
      refillPool: () => void this.pool.refill(),
      persist: () => this.persist(),
      changed: (exit) => this.changed(exit),
      emit: (event, to) => this.emit(event, to),
      stop: (backend, why) => this.stop(backend, why),
    });
    this.starts = new FleetStarts({
      home: this.home,
      env: () => this.options.env ?? process.env,
      heartbeatGraceMs: options.heartbeatGraceMs,
      log: this.log,
      closed: () => this.closed,
      config: () => this.config(),
      makeRoom: (config) => this.pool.makeRoom(config),
      backends: () => this.backends.values(),
      capacity: this.capacity,
      conditions: this.conditions,
      counters: this.counters,
      culling: this.culling,
      add: (backend) => this.lifecycle.add(backend),
      persist: () => this.persist(),
    });
    this.pool = new SparePool({
      logger: this.log,
      env: this.options.env ?? process.env,
      config: () => this.config(),
      launch: (requirement, where, onSpawned) => this.starts.launch(requirement, where, undefined, onSpawned),
      stop: (b, why) => this.stop(b, why),
      backends: () => this.backends.values(),
      changed: () => this.persist(),
    });
  }

  config(): Promise<FleetConfig> {
    return this.settings.reload();
  }

  stop(backend: ManagedBackend, why: string): Promise<BackendRecord> {
    return stopBackend({ log: this.log, graceMs: this.options.stopGraceMs, changed: () => this.changed() }, backend, why);
  }

  emit(event: ManagerEvent, to: readonly RouterRef[]): void {
    this.signals.emit(event, to);
  }

  /**
   * Answers that hand out a backend wait until the registry says so: a manager killed right
   * after answering must leave a registry from which the next one adopts that backend, with
   * its routers (who then get time to re-attach).
   */
  async durable<T>(value: T): Promise<T> {
    await this.registry?.flushed();
    return value;
  }

  persist(): void {
    if (!this.closed) this.registry?.schedule();
    this.changed();
  }

  changed(exit?: FleetExit): void {
    this.signals.changed(exit);
  }
}
