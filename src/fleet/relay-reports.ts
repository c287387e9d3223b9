/**
 * A router's relay counts (src/shared/relay-counts.ts) reported to the fleet manager, whose
 * totals outlive the router. Coalesced: every `intervalMs` (default 1 s) each held backend with
 * something new sends one delta, and a backend's last delta goes out when it is released or
 * gone. A delta that cannot be sent (no manager connection) stays counted for the next report.
 * The timer runs only while something is held, and never keeps the process alive.
 */
import { RelayCounts, type RelayDelta } from '../shared/relay-counts.js';

export interface RelayReportsOptions {
  /** Sends one report; false when it could not be sent (no manager connection now). */
  send(kernelId: string, delta: RelayDelta): boolean;
  intervalMs?: number;
  /** Injectable for tests; default an unref'd setInterval. */
  every?: (run: () => void, intervalMs: number) => () => void;
}

export class RelayReports {
  readonly #counts = new Map<string, RelayCounts>();
  #cancel: (() => void) | undefined;

  constructor(private readonly options: RelayReportsOptions) {}

  /** The counts a held backend's lease hands to the router. */
  countsFor(kernelId: string): RelayCounts {
    let counts = this.#counts.get(kernelId);
    if (counts === undefined) {
      this.#counts.set(kernelId, (counts = new RelayCounts()));
      this.#cancel ??= (this.options.every ?? everyUnref)(() => this.flush(), this.options.intervalMs ?? 1000);
    }
    return counts;
  }

  /** Send what is new for every backend (or only `kernelId`). */
  flush(kernelId?: string): void {
    const which = kernelId === undefined ? this.#counts : [[kernelId, this.#counts.get(kernelId)] as const];
    for (const [id, counts] of which) {
      const delta = counts?.take();
      if (delta !== undefined && !this.options.send(id, delta)) counts!.restore(delta);
    }
  }

  /** The backend is released or gone: its last delta goes now, then it is no longer watched. */
  finish(kernelId: string): void {
    this.flush(kernelId);
    this.#counts.delete(kernelId);
    if (this.#counts.size === 0) this.#stopTimer();
  }

  close(): void {
    this.#stopTimer();
    this.#counts.clear();
  }

  #stopTimer(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }
}

function everyUnref(run: () => void, intervalMs: number): () => void {
  const timer = setInterval(run, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
