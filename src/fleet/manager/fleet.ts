/**
 * The fleet manager's core, without the socket: which backends run, who is attached to each,
 * find-or-spawn (one spawn per requirement however many ask at once), linger, stop, restart,
 * and the registry that lets a new manager adopt what an old one left running. It owns the
 * state (held in fleet-parts.ts); the launch path (starts.ts), a backend's life once spawned
 * (lifecycle.ts), restart (restart.ts), stopping (stopping.ts) and adoption at start
 * (fleet-adoption.ts) reach it through narrow hosts, built in fleet-parts.ts; `list` is
 * fleet-listing.ts. The config last loaded is in fleet-settings.ts, who hears of changes in
 * fleet-signals.ts.
 */
import { FleetError } from '../../shared/errors.js';
import { requirementKey, type Requirement } from '../../shared/requirement.js';
import type { DetachedOutput, RunningCell } from '../../shared/detached-output.js';
import type { RelayDelta } from '../../shared/relay-counts.js';
import { adoptLeftRunning } from './fleet-adoption.js';
import { staleRouters } from './attachments.js';
import { effectiveLimits } from '../limits.js';
import type { FleetCounters } from './counters.js';
import type { RelayTotals } from './relay-totals.js';
import type { ManagedBackend, RouterRef } from './entry.js';
import type { ManagerHolds } from './idle.js';
import type { Interrupted } from './interrupt.js';
import { handle } from './launch.js';
import { maintenance, type CleanupReport } from './maintenance.js';
import { matchingBackends } from './stopping.js';
import { restartBackend } from './restart.js';
import type { BackendHandle, BackendRecord, HealthReport, ListedBackend } from './protocol.js';
import { DEFAULT_REATTACH_GRACE_MS, type FleetEventListener, type FleetExit, type FleetManagerOptions, type SpawnWhere } from './fleet-options.js';
import { FleetParts } from './fleet-parts.js';
import { listBackends } from './fleet-listing.js';

export type { FleetEventListener, FleetManagerOptions, SpawnWhere } from './fleet-options.js';

export class FleetManager {
  readonly home: string;
  readonly #p: FleetParts;
  /** Spawns, restarts and exits since the manager started (for /metrics). */
  readonly counters: FleetCounters;
  /** What routers relayed, per backend, from their reports (for /metrics and the dashboard's rate). */
  readonly relay: RelayTotals;

  constructor(options: FleetManagerOptions) {
    this.#p = new FleetParts(options);
    this.home = this.#p.home;
    this.counters = this.#p.counters;
    this.relay = this.#p.relay;
  }

  /** Adopt what the registry says still runs; returns the kernel ids adopted and forgotten. */
  async start(): Promise<{ adopted: string[]; forgotten: string[] }> {
    await this.#p.config().catch((error: unknown) => this.#p.log.warn({ err: String(error) }, 'config unusable at start; linger default applies'));
    const adoption = await adoptLeftRunning({
      home: this.home,
      log: this.#p.log,
      env: this.#p.options.env ?? process.env,
      pollMs: this.#p.options.pollMs ?? 1000,
      reattachGraceMs: this.#p.options.reattachGraceMs ?? DEFAULT_REATTACH_GRACE_MS,
      config: this.#p.settings.last,
      add: (backend) => this.#p.lifecycle.add(backend),
      pool: this.#p.pool,
      culling: this.#p.culling,
      attachments: this.#p.attachments,
    });
    this.#p.persist();
    this.#p.pool.start();
    return adoption;
  }

  onEvent(listener: FleetEventListener): () => void {
    return this.#p.signals.onEvent(listener);
  }

  /** `observer` hears each change of the fleet (and how a backend ended); returns its removal. */
  observe(observer: (exit?: FleetExit) => void): () => void {
    return this.#p.signals.observe(observer);
  }

  /** How many observers listen now (an open event stream is one): /metrics shows it. */
  get observerCount(): number {
    return this.#p.signals.observerCount;
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
    this.#p.attachments.idleIfUnused(backend);
    return this.#p.durable(handle(backend));
  }

  /** A new backend even if a matching one runs (CLI `spawn`). */
  async spawn(requirement: Requirement, where: SpawnWhere = {}): Promise<BackendHandle> {
    this.#p.pool.resume();
    const backend = await this.#p.starts.launch(requirement, where);
    this.#p.attachments.idleIfUnused(backend);
    return this.#p.durable(handle(backend));
  }

  async attach(kernelId: string, router: RouterRef): Promise<BackendHandle> {
    const backend = this.#p.backends.get(kernelId);
    if (backend === undefined || backend.state === 'stopping' || backend.state === 'exited') {
      throw new FleetError('UNKNOWN_BACKEND', `no running backend ${kernelId}; acquire a new one (see \`llmspell-fleet list\`)`, { kernelId });
    }
    this.#p.attachments.attach(backend, router);
    return this.#p.durable(handle(backend));
  }

  /** `cells`: the router's cells still running there; if it was the last router, they head their kept output. */
  release(kernelId: string, routerId: string, cells: RunningCell[] = []): void {
    const backend = this.#p.backends.get(kernelId);
    if (backend === undefined) return;
    this.#p.attachments.detach(backend, (r) => r.routerId === routerId);
    this.#p.detached.noteCells(kernelId, cells);
  }

  /** The output `kernelId` printed while nobody was attached, handed out once, to a router attached to it. */
  takeOutput(kernelId: string, routerId: string): DetachedOutput | undefined {
    const backend = this.#p.backends.get(kernelId);
    if (backend === undefined || !backend.attached.has(routerId)) {
      throw new FleetError('UNKNOWN_BACKEND', `router ${routerId} is not attached to backend ${kernelId}; acquire it first`, { kernelId });
    }
    return this.#p.detached.take(kernelId);
  }

  /** A router's report that the backend's iopub went busy or idle; false for a backend not running here. */
  executionState(kernelId: string, routerId: string, state: 'busy' | 'idle'): boolean {
    const backend = this.#p.backends.get(kernelId);
    if (backend === undefined || backend.state === 'exited') return false;
    this.#p.conditions.report(kernelId, routerId, state === 'busy');
    if (state === 'idle') this.#p.pool.idle(kernelId);
    this.#p.culling.busy(kernelId, this.#p.conditions.isBusy(kernelId, backend.attached.keys()));
    this.#p.changed();
    return true;
  }

  /** A router's relay counts since its last report; false for a backend the fleet does not know (nor keeps totals of). */
  relayCounts(kernelId: string, delta: RelayDelta): boolean {
    const backend = this.#p.backends.get(kernelId);
    const { runtime, provider, group = '' } = backend?.requirement ?? { runtime: '', provider: '' };
    return this.#p.relay.add(kernelId, delta, backend && (() => ({ kernelId, runtime, provider, group })));
  }

  /** A manager connection closed: every attachment it made ends (that is the lease). */
  detachConnection(conn: number): void {
    for (const backend of this.#p.backends.values()) this.#p.attachments.detach(backend, (r) => r.conn === conn);
  }

  /**
   * Detach routers whose connection has closed. A request that attaches (acquire, attach, or
   * a restart moving everyone) can finish after its router's connection closed, e.g. a router
   * that gave up while its backend started: that attachment's lease has already ended, and
   * without this it would hold the backend (and the manager) forever.
   */
  detachStale(leaseOpen: (conn: number) => boolean): void {
    for (const backend of this.#p.backends.values()) {
      const stale = new Set(staleRouters(backend.attached.values(), leaseOpen));
      if (stale.size > 0) this.#p.attachments.detach(backend, (r) => stale.has(r));
    }
  }

  /** What of the fleet keeps the manager from exiting when idle (see idle.ts). */
  holds(): Pick<ManagerHolds, 'backends' | 'starts'> {
    // Spares wait for requests that only come through a manager: they never hold it (see retireSpares).
    const backends = [...this.#p.backends.values()].filter((b) => b.state !== 'exited' && b.spare === undefined).length;
    return { backends, starts: this.#p.inflight.size + this.#p.restarts.size };
  }

  /** manager_idle_seconds from the config last loaded (at start and at each launch), in ms. */
  idleMs(): number {
    return this.#p.settings.idleSeconds * 1000;
  }

  /**
   * Replace a shared backend for everyone attached: stop it, start one with the same
   * requirement, move the attachments, and tell every other attached router. Concurrent
   * restarts of one backend share the new one; acquires for its requirement wait for it.
   */
  restart(kernelId: string, routerId?: string, keys?: Record<string, string>): Promise<BackendHandle> {
    return this.#p.restarts.join(kernelId, () => restartBackend(this.#p.restartHost, kernelId, routerId, keys));
  }

  /** Stop by kernel id or by any of its ports. */
  async stop(target: string): Promise<{ stopped: BackendRecord[] }> {
    const matches = matchingBackends(this.#p.backends.values(), target);
    return { stopped: await Promise.all(matches.map((b) => this.#p.stop(b, 'stopped'))) };
  }

  /** Interrupt the running cell of a backend (by kernel id or port) in its own interrupt mode. */
  async interrupt(target: string): Promise<Interrupted> {
    const [backend] = matchingBackends(this.#p.backends.values(), target);
    // Loaded on first use: it brings the Jupyter client (zeromq), see launch.ts.
    return (await import('./interrupt.js')).interruptBackend(backend);
  }

  /** Spares too; the pool stays empty until the next request (acquire, find, spawn). */
  async stopAll(): Promise<{ stopped: BackendRecord[] }> {
    this.#p.pool.pause();
    return { stopped: await Promise.all([...this.#p.backends.values()].map((b) => this.#p.stop(b, 'stopped'))) };
  }

  /** Every backend with what it is doing now (conditions.ts), and those that died lately. */
  list(): ListedBackend[] {
    return listBackends(this.#p);
  }

  health(): Promise<HealthReport[]> {
    return maintenance.health(this.#p.backends.values());
  }

  /** Forget dead backends now (not at the next poll) and remove connection files nobody owns. */
  async cleanup(): Promise<CleanupReport> {
    const report = await maintenance.cleanup(this.home, this.#p.backends, { spawning: this.#p.inflight.size > 0, config: this.#p.settings.last });
    report.removed.push(...this.#p.conditions.takeDead());
    this.#p.persist();
    return report;
  }

  /** The manager is going away: timers stop, the registry is flushed, backends keep running. */
  async close(): Promise<void> {
    this.#p.closed = true;
    this.#p.pool.close();
    this.#p.detached.close();
    this.#p.culling.close();
    for (const backend of this.#p.backends.values()) backend.release();
    this.#p.registry?.schedule();
    await this.#p.registry?.flushed();
  }

  /**
   * The manager exits idle: its spares go with it (nothing can take them until a manager runs,
   * and one that starts fills its own pool). A manager killed instead leaves them to be adopted.
   */
  retireSpares(why: string): Promise<void> {
    return this.#p.pool.retireAll(why);
  }

  #findOrSpawn(requirement: Requirement, where: SpawnWhere): Promise<ManagedBackend> {
    const key = requirementKey(requirement);
    for (const backend of this.#p.backends.values()) {
      if (backend.state === 'ready' && backend.spare === undefined && requirementKey(backend.requirement) === key) return Promise.resolve(backend);
    }
    this.#p.pool.resume();
    return this.#p.inflight.join(key, async () => {
      const taken = await this.#p.pool.take(requirement, where.keys);
      if (taken === undefined) return this.#p.starts.launch(requirement, where);
      const config = this.#p.settings.last;
      if (config !== undefined) this.#p.culling.watch(taken.kernelId, effectiveLimits(config, requirement).idle_cull_seconds);
      return taken;
    });
  }
}
