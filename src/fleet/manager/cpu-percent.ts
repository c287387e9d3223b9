/**
 * CPU % of each backend's process family for `list` and usage_reply: the CPU seconds it used
 * between two of the manager's samples, over the time between them, as top shows it. Samples are
 * taken only when someone asks (one family reading per tick, backend-usage.ts), never in the background. The first
 * sample of a backend has no earlier one: it is averaged over the backend's life, as ps does.
 * A sample less than MIN_INTERVAL_MS after the last one keeps the last value (a burst of lists,
 * e.g. a dashboard re-reading on each event, would measure noise).
 */
export const MIN_INTERVAL_MS = 1000;

interface Sample {
  cpuSeconds: number;
  at: number;
  percent: number;
}

export class CpuPercent {
  readonly #last = new Map<string, Sample>();

  /** Pure given the samples: the backend's CPU % now (100 = one core busy). */
  sample(kernelId: string, cpuSeconds: number, at: number, startedAt: number): number {
    const last = this.#last.get(kernelId);
    if (last !== undefined && at - last.at < MIN_INTERVAL_MS) return last.percent;
    const since = last ?? { cpuSeconds: 0, at: startedAt };
    const ms = at - since.at;
    const percent = ms > 0 ? Math.max(0, ((cpuSeconds - since.cpuSeconds) * 100_000) / ms) : 0;
    this.#last.set(kernelId, { cpuSeconds, at, percent });
    return percent;
  }

  /** Forget backends not in `live` (gone ones must not pile up). */
  keepOnly(live: ReadonlySet<string>): void {
    for (const id of this.#last.keys()) if (!live.has(id)) this.#last.delete(id);
  }
}
