/**
 * The pre-warmed pool (issue #12): idle spare backends per `[pool]` requirement, started ahead
 * of demand, each running its startup code before it is offered. A request for the requirement
 * takes a spare at once (it becomes that requirement's shared backend) and a replacement starts
 * in the background; a spare handed out never comes back. pool-plan.ts decides, this does.
 *
 * Spares are backends of the fleet (they are in its map and its registry, marked `spare`), but
 * they have no linger (nobody ever attached), never hold the manager from its idle exit (it
 * retires them as it goes: see server.ts), and give way to users' backends under max_backends.
 */
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { Requirement } from '../../shared/requirement.js';
import { expandHome } from '../paths.js';
import type { FleetConfig, PoolEntry } from '../types.js';
import type { ManagedBackend } from './entry.js';
import { planPool, type SpareFacts } from './pool-plan.js';
import { runStartupCode, startupTimeoutMs } from './pool-startup.js';
import { SpareReplacements } from './pool-replacing.js';
import { spareFits } from './pool-fit.js';
import { rssBytes } from './proc.js';

/** How often the pool is checked against its config and memory cap, besides every change. */
const CHECK_MS = 10_000;
/** A requirement whose spare failed is not tried again for this long (a broken one would loop). */
const BLOCK_MS = 60_000;
const MB = 1024 * 1024;

export interface PoolHost {
  logger: Logger;
  env: Record<string, string | undefined>;
  config(): Promise<FleetConfig>;
  /** Start a backend as a spare with these provider keys: `onSpawned` marks it before the fleet records it. */
  launch(requirement: Requirement, where: { cwd: string; keys: Record<string, string> }, onSpawned: (backend: ManagedBackend) => void): Promise<ManagedBackend>;
  stop(backend: ManagedBackend, why: string): Promise<unknown>;
  backends(): Iterable<ManagedBackend>;
  /** A spare changed (ready, taken): the registry and the lists are told. */
  changed(): void;
}

/** `runtime/provider`: a spare serves its requirement with any group. */
export function poolKey(requirement: Pick<Requirement, 'runtime' | 'provider'>): string {
  return `${requirement.runtime}/${requirement.provider}`;
}

export class SparePool {
  /** Per warming spare: settles true once it is offered, false if it is not (failed, stopped). */
  readonly #offered = new Map<string, Promise<boolean>>();
  /** Warming spares a request waits for: the pool leaves them alone. */
  readonly #claimed = new Set<string>();
  readonly #typicalMb: Record<string, number> = {};
  readonly #blockedUntil = new Map<string, number>();
  /** Spares being started (launch and startup code): retireAll waits for them. */
  readonly #starting = new Set<Promise<void>>();
  /** Spares asked of the launcher that have no entry yet. */
  #launching = new Map<string, number>();
  #paused = false;
  /** Users' backend starts between makeRoom and their entry: their places are taken. */
  #reserved = 0;
  #closed = false;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #lastHeld = '';
  /** The provider keys of the last request (memory only, never logged): new spares start with them. */
  #keys: Record<string, string> = {};
  #config: FleetConfig | undefined;
  /** Taken spares whose replacement waits for their first cell (pool-replacing.ts). */
  readonly #replacing = new SpareReplacements();
  readonly #log: Logger;

  constructor(private readonly host: PoolHost) {
    this.#log = host.logger.child({ component: 'pool' });
  }

  start(): void {
    this.#timer = setInterval(() => this.refill(), CHECK_MS);
    this.#timer.unref();
    this.refill();
  }

  /** Bring the pool to what [pool] asks (coalesced: one check at a time, another after it if asked meanwhile). */
  refill(): Promise<void> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#check()
      .catch((error: unknown) => this.#log.error({ err: describeError(error) }, 'pool check failed'))
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          void this.refill();
        }
      });
    return this.#running;
  }

  /** stop-all and the idle exit: no new spares until the next request resumes the pool. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    void this.refill();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#replacing.close();
  }

  /** A backend's router says its cell is done: if it was a spare just taken, its replacement starts now. */
  idle(kernelId: string): void {
    if (this.#replacing.done(kernelId)) void this.refill();
  }

  /** Stop every spare (the manager exits idle); the pool stays paused. */
  async retireAll(why: string): Promise<void> {
    this.pause();
    // One being spawned has no entry yet: once it has, it sees the pause and retires itself.
    await Promise.all([...this.#spares().map((b) => this.#retire(b, why)), ...this.#starting]);
  }

  /**
   * A spare for `requirement`, now its backend (no longer a spare), or undefined when the pool
   * has none: a ready one at once, else one still warming (it is further along than a new one).
   */
  async take(requirement: Requirement, keys: Record<string, string> = {}): Promise<ManagedBackend | undefined> {
    const key = poolKey(requirement);
    this.#keys = { ...keys };
    const config = this.#config ?? (await this.host.config());
    const all = this.#spares().filter((b) => poolKey(b.requirement) === key && !this.#claimed.has(b.kernelId));
    const mine = all.filter((b) => spareFits(b, keys, config, this.host.env, this.#log));
    // Keys changed since they started: they could serve nobody who asks now. The pool starts new ones.
    for (const b of all) if (!mine.includes(b)) void this.#retire(b, 'pool: provider keys differ from the latest request');
    const ready = mine.filter((b) => b.spare === 'ready' && b.state === 'ready').sort((a, b) => a.init.startedAt - b.init.startedAt)[0];
    let spare = ready;
    if (spare === undefined) {
      const warming = mine.find((b) => b.spare === 'warming' && this.#offered.has(b.kernelId));
      if (warming === undefined) return undefined;
      this.#claimed.add(warming.kernelId);
      // Its first cell will wait anyway: the replacement starts now, alongside.
      void this.refill();
      const offered = await this.#offered.get(warming.kernelId);
      this.#claimed.delete(warming.kernelId);
      if (!offered || warming.state !== 'ready') return undefined;
      spare = warming;
    }
    spare.spare = undefined;
    // A spare has no group; it joins the one asked for.
    spare.init.requirement = { ...requirement };
    this.#log.info({ kernelId: spare.kernelId, requirement: key }, 'a request took a spare');
    this.host.changed();
    if (spare === ready) {
      const { kernelId } = spare;
      this.#replacing.wait(kernelId, key, () => this.idle(kernelId));
    }
    return spare;
  }

  /**
   * A user's backend is about to start: when max_backends leaves no place for it, the newest
   * spares give theirs up first (spares never keep a user waiting or refused).
   */
  async makeRoom(config: FleetConfig): Promise<() => void> {
    // The place is the user's from now until its backend has an entry (the caller calls the release then).
    this.#reserved++;
    let released = false;
    const release = () => {
      if (!released) this.#reserved--;
      released = true;
    };
    if (config.max_backends === undefined) return release;
    const live = [...this.host.backends()].filter((b) => b.state !== 'exited' && b.state !== 'stopping').length + this.#reserved;
    const spares = this.#spares().sort((a, b) => b.init.startedAt - a.init.startedAt);
    const over = live - config.max_backends;
    await Promise.all(spares.slice(0, Math.max(0, over)).map((b) => this.#retire(b, 'pool: max_backends, for a request')));
    return release;
  }

  /** A spare the fleet adopted after a manager restart: one not offered yet may not have run its startup code. */
  adopted(backend: ManagedBackend): void {
    if (backend.spare === 'warming') void this.#retire(backend, 'pool: adopted before its startup code had run');
  }

  #spares(): ManagedBackend[] {
    return [...this.host.backends()].filter((b) => b.spare !== undefined && b.state !== 'exited' && b.state !== 'stopping');
  }

  async #check(): Promise<void> {
    if (this.#paused || this.#closed) return;
    const config = await this.host.config();
    this.#config = config;
    const now = Date.now();
    const spares = this.#spares().filter((b) => !this.#claimed.has(b.kernelId));
    const facts: SpareFacts[] = spares.map((b) => {
      const rss = b.spare === 'ready' ? rssBytes(b.pid) : undefined;
      if (rss !== undefined) this.#typicalMb[poolKey(b.requirement)] = rss / MB;
      return { kernelId: b.kernelId, key: poolKey(b.requirement), startedAt: b.init.startedAt, ...(rss === undefined ? {} : { rssMb: rss / MB }) };
    });
    let launching = 0;
    for (const [key, n] of this.#launching) for (let i = 0; i < n; i++, launching++) facts.push({ kernelId: '', key, startedAt: now });
    // A taken spare's replacement waits for its first cell: until then it holds the place.
    for (const key of this.#replacing.keys()) facts.push({ kernelId: '', key, startedAt: now });
    const live = [...this.host.backends()].filter((b) => b.state !== 'exited').length + launching + this.#reserved;
    const plan = planPool({
      pool: config.pool,
      spares: facts,
      ...(config.pool_max_mb === undefined ? {} : { maxMb: config.pool_max_mb }),
      ...(config.max_backends === undefined ? {} : { room: config.max_backends - live }),
      typicalMb: this.#typicalMb,
      blocked: new Set([...this.#blockedUntil].filter(([, until]) => until > now).map(([key]) => key)),
    });
    const held = JSON.stringify(plan.held);
    if (held !== this.#lastHeld && plan.held.length > 0) this.#log.info({ held: plan.held, pool_max_mb: config.pool_max_mb, max_backends: config.max_backends }, 'spares held back');
    this.#lastHeld = held;
    const byId = new Map(spares.map((b) => [b.kernelId, b]));
    await Promise.all(
      plan.retire.map((r) => {
        const backend = byId.get(r.kernelId);
        return backend === undefined ? undefined : this.#retire(backend, `pool: ${r.why}`);
      }),
    );
    for (const key of plan.start) {
      const starting = this.#startSpare(key, config.pool[key]!, config).finally(() => this.#starting.delete(starting));
      this.#starting.add(starting);
    }
  }

  async #retire(backend: ManagedBackend, why: string): Promise<void> {
    this.#log.info({ kernelId: backend.kernelId, requirement: poolKey(backend.requirement), why }, 'retiring a spare');
    await this.host.stop(backend, why).catch((error: unknown) => this.#log.error({ kernelId: backend.kernelId, err: describeError(error) }, 'cannot stop a spare'));
  }

  async #startSpare(key: string, entry: PoolEntry, config: FleetConfig): Promise<void> {
    const [runtime = '', provider = ''] = key.split('/');
    const cwd = expandHome(entry.cwd ?? '~', this.host.env.HOME || undefined);
    let offer: (ok: boolean) => void = () => undefined;
    this.#launching.set(key, (this.#launching.get(key) ?? 0) + 1);
    let spawned = false;
    const launched = () => {
      if (spawned) return;
      spawned = true;
      const left = (this.#launching.get(key) ?? 1) - 1;
      if (left > 0) this.#launching.set(key, left);
      else this.#launching.delete(key);
    };
    let backend: ManagedBackend;
    try {
      backend = await this.host.launch({ runtime, provider }, { cwd, keys: this.#keys }, (b) => {
        b.spare = 'warming';
        launched();
        this.#offered.set(b.kernelId, new Promise((resolve) => (offer = resolve)));
        void b.gone.then(() => offer(false));
      });
    } catch (error) {
      offer(false);
      // Stopped by stop-all or the idle exit while it started: that is no failure of its own.
      if (!this.#paused && !this.#closed) this.#fail(key, `could not start: ${describeError(error)}`);
      return;
    } finally {
      launched();
    }
    try {
      if (this.#paused || this.#closed) throw new PausedError();
      if (entry.startup !== undefined && entry.startup.trim() !== '') await runStartupCode(backend, entry.startup, startupTimeoutMs(config, runtime));
      if (this.#paused || this.#closed) throw new PausedError();
    } catch (error) {
      offer(false);
      const paused = error instanceof PausedError || this.#paused || this.#closed;
      if (!paused) this.#fail(key, `its startup code failed: ${describeError(error)}`, backend.kernelId);
      await this.#retire(backend, paused ? 'pool: paused while it started' : 'pool: startup code failed');
      return;
    } finally {
      this.#offered.delete(backend.kernelId);
    }
    if (backend.state !== 'ready') return offer(false);
    backend.spare = 'ready';
    this.#log.info({ kernelId: backend.kernelId, requirement: key, startup: entry.startup !== undefined }, 'spare ready');
    offer(true);
    this.host.changed();
    // Its memory is known now: the cap is checked with it.
    void this.refill();
  }

  #fail(key: string, what: string, kernelId?: string): void {
    this.#blockedUntil.set(key, Date.now() + BLOCK_MS);
    this.#log.error({ requirement: key, kernelId, retryInSeconds: BLOCK_MS / 1000 }, `a spare for [pool] "${key}" was discarded: ${what}`);
  }
}

/** Control flow only: the pool was paused (stop-all, idle exit) while a spare started. Never leaves this file. */
class PausedError extends Error {}
