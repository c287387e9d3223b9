/**
 * Who is attached to which backend, and what happens when nobody is: a backend with no router
 * attached is stopped after linger_seconds. One timer per backend (linger, or the grace an
 * adopted backend gives its old routers to re-attach after a manager restart).
 */
import type { ManagedBackend, RouterRef } from './entry.js';
import type { BackendRecord } from './protocol.js';

export interface AttachmentsOptions {
  /** Read when a backend goes idle: linger_seconds from the config last loaded (at manager start and at each backend launch). */
  lingerMs(): number;
  /** The attached set or idleSince changed: the registry is rewritten. */
  onChange(): void;
  /** The linger ran out with nobody attached: stop it. */
  onIdleTimeout(backend: ManagedBackend): void;
  /** A router attached: the manager leaves the backend's data path (detached-output.ts). */
  onAttended?(backend: ManagedBackend): void;
  /** Nobody is attached now (last router left, adopted or spawned with none): its output is kept. */
  onUnattended?(backend: ManagedBackend): void;
}

/** Pure: how long from `now` until a backend idle since `idleSince` has lingered `lingerMs`. */
export function lingerDelay(idleSince: number, lingerMs: number, now: number): number {
  return Math.max(0, idleSince + lingerMs - now);
}

/**
 * Pure: how long a backend that went idle at `since` lingers: linger_seconds, or longer while a
 * restart's re-attach window (`reattachUntil`) is open, so that linger_seconds = 0 does not stop
 * the new backend in the moment between the old router leaving and the new one attaching.
 */
export function lingerFor(lingerMs: number, since: number, reattachUntil: number | undefined): number {
  return Math.max(lingerMs, (reattachUntil ?? 0) - since);
}

/**
 * Pure: when an adopted backend starts to linger. Routers recorded as attached get `graceMs` to
 * re-attach, but only while one of them still runs: a router that gave up (or died) during
 * start-up never comes back, and waiting for it kept such backends past linger_seconds = 0.
 */
export function adoptedLinger(
  record: Pick<BackendRecord, 'attached' | 'idleSince'>,
  options: { graceMs: number; now: number; routerRuns: (pid: number) => boolean },
): { idleSince: number } | { graceMs: number } {
  if (record.attached.some((r) => options.routerRuns(r.pid))) return { graceMs: options.graceMs };
  return { idleSince: record.idleSince ?? options.now };
}

/** Pure: the routers whose lease (manager connection) has ended; a router without one is never stale. */
export function staleRouters(attached: Iterable<RouterRef>, leaseOpen: (conn: number) => boolean): RouterRef[] {
  return [...attached].filter((r) => r.conn !== undefined && !leaseOpen(r.conn));
}

export class Attachments {
  constructor(private readonly options: AttachmentsOptions) {}

  /** Idempotent per routerId: re-attaching updates the router's pid and connection. */
  attach(backend: ManagedBackend, router: RouterRef): void {
    clear(backend);
    backend.idleSince = undefined;
    backend.attached.set(router.routerId, { ...router });
    this.options.onAttended?.(backend);
    this.options.onChange();
  }

  /** Detaches the routers `match` selects; the last one leaving starts the linger. */
  detach(backend: ManagedBackend, match: (router: RouterRef) => boolean): void {
    let changed = false;
    for (const [id, router] of backend.attached) {
      if (match(router)) {
        backend.attached.delete(id);
        changed = true;
      }
    }
    if (!changed) return;
    if (backend.attached.size === 0) this.#idle(backend, Date.now());
    this.options.onChange();
  }

  /** For a backend nobody attached to (spawned by `find`/`spawn`): linger starts now. */
  idleIfUnused(backend: ManagedBackend): void {
    if (backend.attached.size === 0 && backend.timer === undefined) {
      this.#idle(backend, Date.now());
      this.options.onChange();
    }
  }

  /** Restart moves everyone to the new backend: the old one loses its attachments and timer. */
  takeAll(backend: ManagedBackend): RouterRef[] {
    clear(backend);
    const all = [...backend.attached.values()];
    backend.attached.clear();
    return all;
  }

  /**
   * A backend adopted from the registry has nobody attached yet. If routers that still run were
   * attached when the old manager died, they are reconnecting now: give them `graceMs` before
   * lingering, so that linger_seconds = 0 does not stop a backend that is in use.
   */
  adopted(backend: ManagedBackend, record: BackendRecord, options: { graceMs: number; routerRuns: (pid: number) => boolean }): void {
    const plan = adoptedLinger(record, { ...options, now: Date.now() });
    if ('idleSince' in plan) {
      this.#idle(backend, plan.idleSince);
      return;
    }
    clear(backend);
    backend.timer = setTimeout(() => {
      backend.timer = undefined;
      this.idleIfUnused(backend);
    }, plan.graceMs);
    backend.timer.unref();
  }

  #idle(backend: ManagedBackend, since: number): void {
    clear(backend);
    backend.idleSince = since;
    this.options.onUnattended?.(backend);
    backend.timer = setTimeout(() => {
      backend.timer = undefined;
      if (backend.attached.size === 0 && backend.state === 'ready') this.options.onIdleTimeout(backend);
    }, lingerDelay(since, lingerFor(this.options.lingerMs(), since, backend.reattachUntil), Date.now()));
    backend.timer.unref();
  }
}

function clear(backend: ManagedBackend): void {
  if (backend.timer !== undefined) clearTimeout(backend.timer);
  backend.timer = undefined;
}
