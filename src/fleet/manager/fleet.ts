/**
 * The fleet manager's core, without the socket: which backends run, who is attached to each,
 * find-or-spawn (one spawn per requirement however many ask at once), linger, stop, restart,
 * and the registry that lets a new manager adopt what an old one left running. It owns the
 * state; the launch path (starts.ts), a backend's life once spawned (lifecycle.ts), restart
 * (restart.ts), stopping (stopping.ts) and adoption at start (fleet-adoption.ts) reach it
 * through narrow hosts. The config last loaded is in fleet-settings.ts, who hears of changes
 * in fleet-signals.ts.
 */
import { silentLogger, type Logger } from '../../shared/log.js';
import { FleetError } from '../../shared/errors.js';
import { loadFleetConfig } from '../config.js';
import type { FleetConfig } from '../types.js';
import { requirementKey, type Requirement } from '../../shared/requirement.js';
import type { DetachedOutput, RunningCell } from '../../shared/detached-output.js';
import type { RelayDelta } from '../../shared/relay-counts.js';
import { watchedPod } from '../launchers/kube/api.js';
import { podStatusSummary } from '../launchers/kube/reasons.js';
import { adoptLeftRunning } from './fleet-adoption.js';
import { Attachments, staleRouters } from './attachments.js';
import { DetachedOutputs } from './detached-output.js';
import { BackendConditions } from './conditions.js';
import { FleetCapacity } from './capacity.js';
import { IdleCulling } from './culling.js';
import { effectiveLimits } from '../limits.js';
import { FleetCounters } from './counters.js';
import { RelayTotals } from './relay-totals.js';
import type { ManagedBackend, RouterRef } from './entry.js';
import type { ManagerHolds } from './idle.js';
import { InflightStarts } from './inflight.js';
import { BackendLifecycle } from './lifecycle.js';
import type { Interrupted } from './interrupt.js';
import { handle } from './launch.js';
import { maintenance, type CleanupReport } from './maintenance.js';
import { SparePool } from './pool.js';
import { matchingBackends, stopBackend } from './stopping.js';
import { restartBackend, type RestartHost } from './restart.js';
import { FleetStarts } from './starts.js';
import type { BackendHandle, BackendRecord, HealthReport, ListedBackend, ManagerEvent } from './protocol.js';
import { FleetSettings } from './fleet-settings.js';
import { FleetSignals } from './fleet-signals.js';
import { DEFAULT_REATTACH_GRACE_MS, type FleetEventListener, type FleetExit, type FleetManagerOptions, type SpawnWhere } from './fleet-options.js';
import { RegistryWriter } from './registry.js';

export type { FleetEventListener, FleetManagerOptions, SpawnWhere } from './fleet-options.js';

export class FleetManager {
  readonly home: string;
  readonly #backends = new Map<string, ManagedBackend>();
  readonly #inflight = new InflightStarts<ManagedBackend>();
  readonly #restarts = new InflightStarts<BackendHandle>();
  readonly #log: Logger;
  readonly #attachments: Attachments;
  readonly #registry: RegistryWriter | undefined;
  /** Busy, restarting and dead, for `list`. */
  readonly #conditions = new BackendConditions();
  readonly #detached: DetachedOutputs;
  readonly #settings: FleetSettings;
  readonly #signals: FleetSignals;
  #closed = false;
  /** Spawns, restarts and exits since the manager started (for /metrics). */
  readonly counters = new FleetCounters();
  /** What routers relayed, per backend, from their reports (for /metrics and the dashboard's rate). */
  readonly relay = new RelayTotals();
  readonly #pool: SparePool;
  /** max_backends: places held by backends and by starts under way (capacity.ts). */
  readonly #capacity = new FleetCapacity({
    live: () => [...this.#backends.values()].filter((b) => b.state !== 'exited').length,
    holders: () => this.list().filter((b) => b.state !== 'dead').map((b) => ({ kernelId: b.kernelId, requirement: b.requirement, state: b.state, clients: b.attached.length })),
    onRefused: () => this.counters.spawned('refused'),
  });
  /** idle_cull_seconds: one timer per backend that has one (culling.ts). */
  readonly #culling = new IdleCulling({ onCull: (kernelId, cull) => this.#lifecycle.cull(kernelId, cull.cullSeconds) });
  readonly #lifecycle: BackendLifecycle;
  readonly #starts: FleetStarts;
  readonly #restartHost: RestartHost = {
    get: (kernelId) => this.#backends.get(kernelId),
    conditions: this.#conditions,
    attachments: { takeAll: (b) => this.#attachments.takeAll(b), attach: (b, r) => this.#attachments.attach(b, r), idleIfUnused: (b) => this.#attachments.idleIfUnused(b) },
    capacity: this.#capacity,
    track: (key, start) => this.#inflight.track(key, start),
    stop: (backend, why) => this.#stop(backend, why),
    launch: (requirement, where, replacing) => this.#starts.launch(requirement, where, replacing),
    emit: (event, to) => this.#emit(event, to),
    counters: this.counters,
    durable: (value) => this.#durable(value),
    reattachGraceMs: () => this.options.reattachGraceMs ?? DEFAULT_REATTACH_GRACE_MS,
  };

  constructor(private readonly options: FleetManagerOptions) {
    this.home = options.home;
    this.#log = (options.logger ?? silentLogger()).child({ component: 'fleet' });
    this.#settings = new FleetSettings(options.loadConfig ?? (() => loadFleetConfig({ env: this.options.env ?? process.env })));
    this.#signals = new FleetSignals(this.#log);
    this.#detached = new DetachedOutputs({ limits: () => this.#settings.replayLimits, logger: this.#log });
    this.#attachments = new Attachments({
      lingerMs: () => this.#settings.lingerSeconds * 1000,
      onChange: () => {
        // A busy router that left may have been the only one: the backend's idle clock may start.
        for (const b of this.#backends.values()) this.#culling.busy(b.kernelId, this.#conditions.isBusy(b.kernelId, b.attached.keys()));
        this.#persist();
      },
      onIdleTimeout: (b) => void this.#stop(b, 'linger').catch((e: unknown) => this.#log.error({ err: String(e) }, 'linger stop failed')),
      onAttended: (b) => {
        this.#detached.unwatch(b.kernelId);
        this.#culling.touched(b.kernelId);
      },
      // With no linger the backend stops now: there is nobody to keep its output for.
      onUnattended: (b) => {
        if (this.#settings.lingerSeconds > 0) this.#detached.watch(b);
      },
    });
    const live = () => [...this.#backends.values()].filter((b) => b.state !== 'exited').map((b) => b.record());
    const failed = (error: unknown) => this.#log.error({ err: String(error) }, 'cannot write registry.json');
    this.#registry = options.persist === false ? undefined : new RegistryWriter(this.home, live, failed);
    this.#lifecycle = new BackendLifecycle({
      log: this.#log,
      closed: () => this.#closed,
      get: (kernelId) => this.#backends.get(kernelId),
      set: (backend) => this.#backends.set(backend.kernelId, backend),
      delete: (kernelId) => this.#backends.delete(kernelId),
      conditions: this.#conditions,
      culling: this.#culling,
      counters: this.counters,
      relay: this.relay,
      refillPool: () => void this.#pool.refill(),
      persist: () => this.#persist(),
      changed: (exit) => this.#changed(exit),
      emit: (event, to) => this.#emit(event, to),
      stop: (backend, why) => this.#stop(backend, why),
    });
    this.#starts = new FleetStarts({
      home: this.home,
      env: () => this.options.env ?? process.env,
      heartbeatGraceMs: options.heartbeatGraceMs,
      log: this.#log,
      closed: () => this.#closed,
      config: () => this.#config(),
      makeRoom: (config) => this.#pool.makeRoom(config),
      backends: () => this.#backends.values(),
      capacity: this.#capacity,
      conditions: this.#conditions,
      counters: this.counters,
      culling: this.#culling,
      add: (backend) => this.#lifecycle.add(backend),
      persist: () => this.#persist(),
    });
    this.#pool = new SparePool({
      logger: this.#log,
      env: this.options.env ?? process.env,
      config: () => this.#config(),
      launch: (requirement, where, onSpawned) => this.#starts.launch(requirement, where, undefined, onSpawned),
      stop: (b, why) => this.#stop(b, why),
      backends: () => this.#backends.values(),
      changed: () => this.#persist(),
    });
  }

  /** Adopt what the registry says still runs; returns the kernel ids adopted and forgotten. */
  async start(): Promise<{ adopted: string[]; forgotten: string[] }> {
    await this.#config().catch((error: unknown) => this.#log.warn({ err: String(error) }, 'config unusable at start; linger default applies'));
    const adoption = await adoptLeftRunning({
      home: this.home,
      log: this.#log,
      env: this.options.env ?? process.env,
      pollMs: this.options.pollMs ?? 1000,
      reattachGraceMs: this.options.reattachGraceMs ?? DEFAULT_REATTACH_GRACE_MS,
      config: this.#settings.last,
      add: (backend) => this.#lifecycle.add(backend),
      pool: this.#pool,
      culling: this.#culling,
      attachments: this.#attachments,
    });
    this.#persist();
    this.#pool.start();
    return adoption;
  }

  onEvent(listener: FleetEventListener): () => void {
    return this.#signals.onEvent(listener);
  }

  /** `observer` hears each change of the fleet (and how a backend ended); returns its removal. */
  observe(observer: (exit?: FleetExit) => void): () => void {
    return this.#signals.observe(observer);
  }

  /** How many observers listen now (an open event stream is one): /metrics shows it. */
  get observerCount(): number {
    return this.#signals.observerCount;
  }

  /** Find or spawn, then attach `router`. */
  async acquire(requirement: Requirement, router: RouterRef, where: SpawnWhere = {}): Promise<BackendHandle> {
    for (let attempt = 0; ; attempt++) {
      const backend = await this.#findOrSpawn(requirement, where);
      // It can only have died in between if it crashed right after answering; spawn again once.
      if (backend.state === 'ready' || attempt >= 1) return await this.attach(backend.kernelId, router);
    }
  }

  /** Find or spawn without attaching (CLI `find`): an unused backend lingers as usual. */
  async find(requirement: Requirement, where: SpawnWhere = {}): Promise<BackendHandle> {
    const backend = await this.#findOrSpawn(requirement, where);
    this.#attachments.idleIfUnused(backend);
    return this.#durable(handle(backend));
  }

  /** A new backend even if a matching one runs (CLI `spawn`). */
  async spawn(requirement: Requirement, where: SpawnWhere = {}): Promise<BackendHandle> {
    this.#pool.resume();
    const backend = await this.#starts.launch(requirement, where);
    this.#attachments.idleIfUnused(backend);
    return this.#durable(handle(backend));
  }

  async attach(kernelId: string, router: RouterRef): Promise<BackendHandle> {
    const backend = this.#backends.get(kernelId);
    if (backend === undefined || backend.state === 'stopping' || backend.state === 'exited') {
      throw new FleetError('UNKNOWN_BACKEND', `no running backend ${kernelId}; acquire a new one (see \`llmspell-fleet list\`)`, { kernelId });
    }
    this.#attachments.attach(backend, router);
    return this.#durable(handle(backend));
  }

  /** `cells`: the router's cells still running there; if it was the last router, they head their kept output. */
  release(kernelId: string, routerId: string, cells: RunningCell[] = []): void {
    const backend = this.#backends.get(kernelId);
    if (backend === undefined) return;
    this.#attachments.detach(backend, (r) => r.routerId === routerId);
    this.#detached.noteCells(kernelId, cells);
  }

  /** The output `kernelId` printed while nobody was attached, handed out once, to a router attached to it. */
  takeOutput(kernelId: string, routerId: string): DetachedOutput | undefined {
    const backend = this.#backends.get(kernelId);
    if (backend === undefined || !backend.attached.has(routerId)) {
      throw new FleetError('UNKNOWN_BACKEND', `router ${routerId} is not attached to backend ${kernelId}; acquire it first`, { kernelId });
    }
    return this.#detached.take(kernelId);
  }

  /** A router's report that the backend's iopub went busy or idle; false for a backend not running here. */
  executionState(kernelId: string, routerId: string, state: 'busy' | 'idle'): boolean {
    const backend = this.#backends.get(kernelId);
    if (backend === undefined || backend.state === 'exited') return false;
    this.#conditions.report(kernelId, routerId, state === 'busy');
    if (state === 'idle') this.#pool.idle(kernelId);
    this.#culling.busy(kernelId, this.#conditions.isBusy(kernelId, backend.attached.keys()));
    this.#changed();
    return true;
  }

  /** A router's relay counts since its last report; false for a backend the fleet does not know (nor keeps totals of). */
  relayCounts(kernelId: string, delta: RelayDelta): boolean {
    const backend = this.#backends.get(kernelId);
    const { runtime, provider, group = '' } = backend?.requirement ?? { runtime: '', provider: '' };
    return this.relay.add(kernelId, delta, backend && (() => ({ kernelId, runtime, provider, group })));
  }

  /** A manager connection closed: every attachment it made ends (that is the lease). */
  detachConnection(conn: number): void {
    for (const backend of this.#backends.values()) this.#attachments.detach(backend, (r) => r.conn === conn);
  }

  /**
   * Detach routers whose connection has closed. A request that attaches (acquire, attach, or
   * a restart moving everyone) can finish after its router's connection closed, e.g. a router
   * that gave up while its backend started: that attachment's lease has already ended, and
   * without this it would hold the backend (and the manager) forever.
   */
  detachStale(leaseOpen: (conn: number) => boolean): void {
    for (const backend of this.#backends.values()) {
      const stale = new Set(staleRouters(backend.attached.values(), leaseOpen));
      if (stale.size > 0) this.#attachments.detach(backend, (r) => stale.has(r));
    }
  }

  /** What of the fleet keeps the manager from exiting when idle (see idle.ts). */
  holds(): Pick<ManagerHolds, 'backends' | 'starts'> {
    // Spares wait for requests that only come through a manager: they never hold it (see retireSpares).
    const backends = [...this.#backends.values()].filter((b) => b.state !== 'exited' && b.spare === undefined).length;
    return { backends, starts: this.#inflight.size + this.#restarts.size };
  }

  /** manager_idle_seconds from the config last loaded (at start and at each launch), in ms. */
  idleMs(): number {
    return this.#settings.idleSeconds * 1000;
  }

  /**
   * Replace a shared backend for everyone attached: stop it, start one with the same
   * requirement, move the attachments, and tell every other attached router. Concurrent
   * restarts of one backend share the new one; acquires for its requirement wait for it.
   */
  restart(kernelId: string, routerId?: string, keys?: Record<string, string>): Promise<BackendHandle> {
    return this.#restarts.join(kernelId, () => restartBackend(this.#restartHost, kernelId, routerId, keys));
  }

  /** Stop by kernel id or by any of its ports. */
  async stop(target: string): Promise<{ stopped: BackendRecord[] }> {
    const matches = matchingBackends(this.#backends.values(), target);
    return { stopped: await Promise.all(matches.map((b) => this.#stop(b, 'stopped'))) };
  }

  /** Interrupt the running cell of a backend (by kernel id or port) in its own interrupt mode. */
  async interrupt(target: string): Promise<Interrupted> {
    const [backend] = matchingBackends(this.#backends.values(), target);
    // Loaded on first use: it brings the Jupyter client (zeromq), see launch.ts.
    return (await import('./interrupt.js')).interruptBackend(backend);
  }

  /** Spares too; the pool stays empty until the next request (acquire, find, spawn). */
  async stopAll(): Promise<{ stopped: BackendRecord[] }> {
    this.#pool.pause();
    return { stopped: await Promise.all([...this.#backends.values()].map((b) => this.#stop(b, 'stopped'))) };
  }

  /** Every backend with what it is doing now (conditions.ts), and those that died lately. */
  list(): ListedBackend[] {
    return this.#conditions.list(maintenance.list(this.#backends.values())).map((b) => {
      const held = this.#detached.summary(b.kernelId);
      const messages = this.relay.messages(b.kernelId);
      const pod = b.kube !== undefined && b.state !== 'dead' ? watchedPod(b.kube) : undefined;
      return {
        ...b,
        ...(held === undefined ? {} : { heldOutput: held }),
        ...(messages === undefined ? {} : { messagesRelayed: messages }),
        ...(pod === undefined ? {} : { podStatus: podStatusSummary(pod) }),
      };
    });
  }

  health(): Promise<HealthReport[]> {
    return maintenance.health(this.#backends.values());
  }

  /** Forget dead backends now (not at the next poll) and remove connection files nobody owns. */
  async cleanup(): Promise<CleanupReport> {
    const report = await maintenance.cleanup(this.home, this.#backends, { spawning: this.#inflight.size > 0, config: this.#settings.last });
    report.removed.push(...this.#conditions.takeDead());
    this.#persist();
    return report;
  }

  /** The manager is going away: timers stop, the registry is flushed, backends keep running. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#pool.close();
    this.#detached.close();
    this.#culling.close();
    for (const backend of this.#backends.values()) backend.release();
    this.#registry?.schedule();
    await this.#registry?.flushed();
  }

  /**
   * The manager exits idle: its spares go with it (nothing can take them until a manager runs,
   * and one that starts fills its own pool). A manager killed instead leaves them to be adopted.
   */
  retireSpares(why: string): Promise<void> {
    return this.#pool.retireAll(why);
  }

  #findOrSpawn(requirement: Requirement, where: SpawnWhere): Promise<ManagedBackend> {
    const key = requirementKey(requirement);
    for (const backend of this.#backends.values()) {
      if (backend.state === 'ready' && backend.spare === undefined && requirementKey(backend.requirement) === key) return Promise.resolve(backend);
    }
    this.#pool.resume();
    return this.#inflight.join(key, async () => {
      const taken = await this.#pool.take(requirement, where.keys);
      if (taken === undefined) return this.#starts.launch(requirement, where);
      const config = this.#settings.last;
      if (config !== undefined) this.#culling.watch(taken.kernelId, effectiveLimits(config, requirement).idle_cull_seconds);
      return taken;
    });
  }

  #config(): Promise<FleetConfig> {
    return this.#settings.reload();
  }

  #stop(backend: ManagedBackend, why: string): Promise<BackendRecord> {
    return stopBackend({ log: this.#log, graceMs: this.options.stopGraceMs, changed: () => this.#changed() }, backend, why);
  }

  #emit(event: ManagerEvent, to: readonly RouterRef[]): void {
    this.#signals.emit(event, to);
  }

  /**
   * Answers that hand out a backend wait until the registry says so: a manager killed right
   * after answering must leave a registry from which the next one adopts that backend, with
   * its routers (who then get time to re-attach).
   */
  async #durable<T>(value: T): Promise<T> {
    await this.#registry?.flushed();
    return value;
  }

  #persist(): void {
    if (!this.#closed) this.#registry?.schedule();
    this.#changed();
  }

  #changed(exit?: FleetExit): void {
    this.#signals.changed(exit);
  }
}
