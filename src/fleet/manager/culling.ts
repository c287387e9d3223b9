/**
 * idle_cull_seconds (issue #10): a backend that has run nothing for that long is stopped even
 * with clients attached, as Enterprise Gateway culls idle kernels; its routers tell their
 * clients, and their next cell starts a new one. "Run nothing" is what the manager can know
 * without being in the data path: no router reported the backend busy. The idle clock starts
 * when the backend is handed out (its start, or a router attaching) and at each busy → idle;
 * a busy backend is never culled, however long its cell runs.
 *
 * No polling: one timer per backend, set from the manager's own state changes (a report, an
 * attach) and cleared when it goes busy or away. The decision itself is pure (cullVerdict).
 */

export type CullVerdict =
  /** No idle_cull_seconds for this backend. */
  | { action: 'off' }
  /** A cell (or any request) runs: never culled now; the clock starts again when it ends. */
  | { action: 'busy' }
  /** Idle, but not for long enough yet: look again in `inMs`. */
  | { action: 'wait'; inMs: number }
  /** Idle for the whole of idle_cull_seconds: stop it. */
  | { action: 'cull'; idleMs: number };

/** Pure: what to do about one backend, given when it was last active. */
export function cullVerdict(input: { cullMs: number | undefined; busy: boolean; activeAt: number; now: number }): CullVerdict {
  const { cullMs, busy, activeAt, now } = input;
  if (cullMs === undefined || !(cullMs > 0)) return { action: 'off' };
  if (busy) return { action: 'busy' };
  const idleMs = Math.max(0, now - activeAt);
  return idleMs >= cullMs ? { action: 'cull', idleMs } : { action: 'wait', inMs: cullMs - idleMs };
}

export interface IdleCullingOptions {
  /** `kernelId` has been idle for its whole idle_cull_seconds: the manager stops it (if it still may). */
  onCull(kernelId: string, cull: { cullSeconds: number; idleMs: number }): void;
  /** Clock and timer, injectable for tests. Defaults: Date.now and an unref'd setTimeout. */
  now?: () => number;
  schedule?: (run: () => void, delayMs: number) => () => void;
}

interface Watched {
  cullMs: number;
  busy: boolean;
  activeAt: number;
  cancel?: () => void;
}

export class IdleCulling {
  readonly #watched = new Map<string, Watched>();

  constructor(private readonly options: IdleCullingOptions) {}

  /** A backend is handed out (ready, or adopted): its clock starts now. No-op without a cull time. */
  watch(kernelId: string, cullSeconds: number | undefined): void {
    this.forget(kernelId);
    if (cullSeconds === undefined || !(cullSeconds > 0)) return;
    this.#watched.set(kernelId, { cullMs: cullSeconds * 1000, busy: false, activeAt: this.#now() });
    this.#arm(kernelId);
  }

  /** A router attached: a backend handed out just now is not culled before its first cell. */
  touched(kernelId: string): void {
    const w = this.#watched.get(kernelId);
    if (w === undefined) return;
    w.activeAt = this.#now();
    this.#arm(kernelId);
  }

  /** Whether any attached router reports the backend busy; busy → idle restarts the clock. */
  busy(kernelId: string, busy: boolean): void {
    const w = this.#watched.get(kernelId);
    if (w === undefined || w.busy === busy) return;
    w.busy = busy;
    if (!busy) w.activeAt = this.#now();
    this.#arm(kernelId);
  }

  /** The backend is going (stopped, replaced, dead): its timer ends. */
  forget(kernelId: string): void {
    this.#watched.get(kernelId)?.cancel?.();
    this.#watched.delete(kernelId);
  }

  /** The manager is going away: every timer ends (the backends stay). */
  close(): void {
    for (const kernelId of [...this.#watched.keys()]) this.forget(kernelId);
  }

  #arm(kernelId: string): void {
    const w = this.#watched.get(kernelId);
    if (w === undefined) return;
    w.cancel?.();
    w.cancel = undefined;
    const verdict = cullVerdict({ cullMs: w.cullMs, busy: w.busy, activeAt: w.activeAt, now: this.#now() });
    if (verdict.action === 'wait') {
      w.cancel = (this.options.schedule ?? scheduleUnref)(() => this.#arm(kernelId), verdict.inMs);
    } else if (verdict.action === 'cull') {
      this.#watched.delete(kernelId);
      this.options.onCull(kernelId, { cullSeconds: w.cullMs / 1000, idleMs: verdict.idleMs });
    }
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }
}

function scheduleUnref(run: () => void, delayMs: number): () => void {
  const timer = setTimeout(run, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
}

/** Pure: the words every client of a culled backend reads (describeExit puts "was " before them). */
export function cullCause(cullSeconds: number): string {
  return `culled after ${cullSeconds} s without running a cell (idle_cull_seconds)`;
}
