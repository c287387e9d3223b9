/**
 * What the manager knows of its backends beyond the registry, for `list`: which are busy (their
 * routers report their iopub's busy/idle; the manager is not in the data path), which replace
 * another (restarting), and which died on their own (shown as dead for a while, so that a
 * backend that exited does not just vanish from the list). Memory only: a new manager starts
 * with every adopted backend idle and no dead ones.
 */
import { backendCondition } from '../../shared/backend-state.js';
import { requirementKey } from '../../shared/requirement.js';
import type { BackendRecord, ListedBackend } from './protocol.js';

/** How long a backend that died stays in `list` as dead, unless restarted or cleaned up sooner. */
export const DEAD_SHOWN_MS = 10 * 60_000;

/** A spare that answers is offered ('spare') only once its startup code has run. */
const spareCondition = { warming: 'starting', ready: 'spare' } as const;

export class BackendConditions {
  /** Per backend, the routers whose last report was busy. */
  readonly #busyBy = new Map<string, Set<string>>();
  /** Backends that replace another and are not ready yet (or old ones a restart is stopping). */
  readonly #restarting = new Set<string>();
  readonly #dead = new Map<string, { record: BackendRecord; at: number; exit?: NonNullable<ListedBackend['lastExit']> }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A router's report of the backend's iopub (busy or idle). */
  report(kernelId: string, routerId: string, busy: boolean): void {
    let routers = this.#busyBy.get(kernelId);
    if (busy) {
      if (routers === undefined) this.#busyBy.set(kernelId, (routers = new Set()));
      routers.add(routerId);
    } else if (routers !== undefined) {
      routers.delete(routerId);
      if (routers.size === 0) this.#busyBy.delete(kernelId);
    }
  }

  /** True while a router in `attached` last said busy (one that left, or died, no longer counts). */
  isBusy(kernelId: string, attached: Iterable<string>): boolean {
    const routers = this.#busyBy.get(kernelId);
    if (routers === undefined) return false;
    for (const id of attached) if (routers.has(id)) return true;
    return false;
  }

  /** A backend is started for `record`'s requirement: true when it replaces one that died (which leaves the list). */
  replacesDead(requirement: BackendRecord['requirement']): boolean {
    const key = requirementKey(requirement);
    let found = false;
    for (const [id, dead] of this.#dead) {
      if (requirementKey(dead.record.requirement) === key) {
        this.#dead.delete(id);
        found = true;
      }
    }
    return found;
  }

  restarting(kernelId: string, on: boolean): void {
    if (on) this.#restarting.add(kernelId);
    else this.#restarting.delete(kernelId);
  }

  /** A ready backend exited on its own (not stopped, not replaced): listed as dead for DEAD_SHOWN_MS. */
  died(record: BackendRecord, exit?: { reason: string; cause?: string; exitCode: number | null; signal: string | null }): void {
    this.forget(record.kernelId);
    const lastExit = exit === undefined ? undefined : { reason: exit.reason, exitCode: exit.exitCode, signal: exit.signal, ...(exit.cause !== undefined ? { cause: exit.cause } : {}) };
    this.#dead.set(record.kernelId, { record: { ...record, state: 'exited', attached: [] }, at: this.now(), ...(lastExit !== undefined ? { exit: lastExit } : {}) });
  }

  /** The backend is gone from the fleet (stopped, replaced, or never got ready): nothing is kept. */
  forget(kernelId: string): void {
    this.#busyBy.delete(kernelId);
    this.#restarting.delete(kernelId);
    this.#dead.delete(kernelId);
  }

  /** `cleanup`: the dead ones are forgotten now. */
  takeDead(): BackendRecord[] {
    const all = [...this.#dead.values()].map((d) => d.record);
    this.#dead.clear();
    return all;
  }

  /** Pure given the reports: live records with their condition, then the dead ones. */
  list(live: readonly (BackendRecord & { rssBytes?: number })[]): ListedBackend[] {
    const now = this.now();
    for (const [id, dead] of this.#dead) if (now - dead.at > DEAD_SHOWN_MS) this.#dead.delete(id);
    const listed = live.map((r) => {
      const attached = new Set(r.attached.map((a) => a.routerId));
      // A router that left (or died) while busy no longer counts.
      const busy = [...(this.#busyBy.get(r.kernelId) ?? [])].some((id) => attached.has(id));
      const condition = backendCondition({ lifecycle: r.state, restart: this.#restarting.has(r.kernelId), busy });
      return { ...r, state: condition === 'ready' && r.spare !== undefined ? spareCondition[r.spare] : condition };
    });
    return [...listed, ...[...this.#dead.values()].map(({ record, exit }) => ({ ...record, state: 'dead' as const, ...(exit !== undefined ? { lastExit: exit } : {}) }))];
  }
}
