/**
 * The manager's totals of what routers relayed, per backend: the sum of the deltas routers
 * report (src/shared/relay-counts.ts), so they outlive each router. The metrics layer exports
 * them; the fleet does not know prom-client.
 *
 * Cardinality: every backend process has a new kernel id, so totals cannot be kept forever. A
 * backend that is gone keeps its totals for `retainMs` (default 10 minutes, as long as `list`
 * shows a dead one): long enough for Prometheus to scrape its last increments and for a router's
 * last report, which may come after the exit, to land. Then its series end.
 */
import { EXECUTION_BUCKETS_SECONDS, EXECUTION_STATUSES, type ExecutionStatus, type RelayChannel, type RelayDelta, type RelayDirection } from '../../shared/relay-counts.js';

export const RELAY_RETAIN_MS = 10 * 60_000;

export interface RelayLabels {
  kernelId: string;
  runtime: string;
  provider: string;
  group: string;
}

export interface RelayTotal {
  labels: RelayLabels;
  /** `${channel}:${direction}` → messages and bytes. */
  relayed: Map<`${RelayChannel}:${RelayDirection}`, { messages: number; bytes: number }>;
  dropped: Map<string, number>;
  executions: Record<ExecutionStatus, number>;
  /** Per bucket (EXECUTION_BUCKETS_SECONDS, then +Inf), not cumulative. */
  buckets: number[];
  sumSeconds: number;
  /** When the backend left the fleet (ms), if it has. */
  goneAt?: number;
}

export class RelayTotals {
  readonly #totals = new Map<string, RelayTotal>();

  constructor(
    private readonly retainMs = RELAY_RETAIN_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Pure accumulation: `delta` added to the backend's totals, created with `labels()` on its first
   * report. False when there are none and no labels (a backend the fleet does not know).
   */
  add(kernelId: string, delta: RelayDelta, labels?: () => RelayLabels): boolean {
    let total = this.#totals.get(kernelId);
    if (total === undefined) {
      if (labels === undefined) return false;
      total = {
        labels: labels(),
        relayed: new Map(),
        dropped: new Map(),
        executions: Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, 0])) as Record<ExecutionStatus, number>,
        buckets: new Array<number>(EXECUTION_BUCKETS_SECONDS.length + 1).fill(0),
        sumSeconds: 0,
      };
      this.#totals.set(kernelId, total);
    }
    for (const r of delta.relayed ?? []) {
      const key = `${r.channel}:${r.direction}` as const;
      const sum = total.relayed.get(key) ?? { messages: 0, bytes: 0 };
      sum.messages += r.messages;
      sum.bytes += r.bytes;
      total.relayed.set(key, sum);
    }
    for (const [reason, n] of Object.entries(delta.dropped ?? {})) total.dropped.set(reason, (total.dropped.get(reason) ?? 0) + n);
    for (const status of EXECUTION_STATUSES) total.executions[status] += delta.executions?.[status] ?? 0;
    delta.durations?.buckets.forEach((n, i) => (total.buckets[i] = (total.buckets[i] ?? 0) + n));
    total.sumSeconds += delta.durations?.sumSeconds ?? 0;
    return true;
  }

  /** The backend left the fleet: its totals are kept for retainMs. */
  retire(kernelId: string): void {
    const total = this.#totals.get(kernelId);
    if (total !== undefined) total.goneAt ??= this.now();
  }

  /** Messages relayed in both directions on every channel (the dashboard's rate). */
  messages(kernelId: string): number | undefined {
    const total = this.#totals.get(kernelId);
    if (total === undefined) return undefined;
    let n = 0;
    for (const r of total.relayed.values()) n += r.messages;
    return n;
  }

  /** Every backend's totals, after those retired longer than retainMs are dropped. */
  all(): RelayTotal[] {
    const now = this.now();
    for (const [id, total] of this.#totals) if (total.goneAt !== undefined && now - total.goneAt > this.retainMs) this.#totals.delete(id);
    return [...this.#totals.values()];
  }
}
