/**
 * The relay totals routers report (fleet/manager/relay-totals.ts) as Prometheus series, read at
 * scrape time. Per backend (kernel_id, runtime, provider, group); a gone backend's series stay
 * for the totals' retention (10 minutes), then end. hb has no series: it is never relayed.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { EXECUTION_BUCKETS_SECONDS, EXECUTION_STATUSES } from '../../../shared/relay-counts.js';
import type { RelayTotal } from '../relay-totals.js';

const BACKEND_LABELS = ['kernel_id', 'runtime', 'provider', 'group'] as const;
type BackendLabels = Record<(typeof BACKEND_LABELS)[number], string>;

/** Pure: a total's backend labels as Prometheus names them. */
export function relayLabels(total: Pick<RelayTotal, 'labels'>): BackendLabels {
  const { kernelId, runtime, provider, group } = total.labels;
  return { kernel_id: kernelId, runtime, provider, group };
}

/** Pure: a histogram's series from per-bucket counts (not cumulative): `_bucket` with `le`, `_sum`, `_count`. */
export function histogramValues(name: string, labels: Record<string, string>, buckets: readonly number[], sumSeconds: number): { metricName: string; labels: Record<string, string>; value: number }[] {
  const values: { metricName: string; labels: Record<string, string>; value: number }[] = [];
  let cumulative = 0;
  buckets.forEach((n, i) => {
    cumulative += n;
    const le = i < EXECUTION_BUCKETS_SECONDS.length ? String(EXECUTION_BUCKETS_SECONDS[i]) : '+Inf';
    values.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
  });
  values.push({ metricName: `${name}_sum`, labels, value: sumSeconds });
  values.push({ metricName: `${name}_count`, labels, value: cumulative });
  return values;
}

/**
 * A histogram whose buckets are totals kept elsewhere: prom-client's Histogram can only
 * observe one value at a time, and the routers send bucket counts, not values.
 */
class TotalsHistogram extends Histogram<string> {
  constructor(
    private readonly metricName: string,
    private readonly helpText: string,
    registry: Registry,
    private readonly totals: () => RelayTotal[],
  ) {
    super({ name: metricName, help: helpText, labelNames: BACKEND_LABELS, buckets: [...EXECUTION_BUCKETS_SECONDS], registers: [registry] });
  }

  override async get(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    const values = this.totals().flatMap((t) => histogramValues(this.metricName, relayLabels(t), t.buckets, t.sumSeconds));
    const metric = { name: this.metricName, help: this.helpText, type: 'histogram', aggregator: 'sum', values };
    return metric as unknown as Awaited<ReturnType<Histogram<string>['get']>>;
  }

  /** What the registry renders text from when a metric has it (prom-client's Histogram does): the same. */
  getForPromString(): ReturnType<Histogram<string>['get']> {
    return this.get();
  }
}

export function registerRelayMetrics(registry: Registry, prefix: string, totals: () => RelayTotal[]): void {
  const registers = [registry];
  new Counter({
    name: `${prefix}messages_relayed_total`,
    help: 'Messages routers relayed between clients and the backend, by channel and direction (to_backend, to_client)',
    labelNames: [...BACKEND_LABELS, 'channel', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const t of totals()) {
        for (const [key, { messages }] of t.relayed) {
          const [channel = '', direction = ''] = key.split(':');
          this.inc({ ...relayLabels(t), channel, direction }, messages);
        }
      }
    },
  });
  new Counter({
    name: `${prefix}relayed_bytes_total`,
    help: 'Bytes of the messages routers relayed (header, parent header, metadata, content and buffers), by channel and direction',
    labelNames: [...BACKEND_LABELS, 'channel', 'direction'],
    registers,
    collect() {
      this.reset();
      for (const t of totals()) {
        for (const [key, { bytes }] of t.relayed) {
          const [channel = '', direction = ''] = key.split(':');
          this.inc({ ...relayLabels(t), channel, direction }, bytes);
        }
      }
    },
  });
  new Counter({
    name: `${prefix}messages_dropped_total`,
    help: 'Messages routers dropped for the backend, by reason (BAD_SIGNATURE, TOO_LARGE, PENDING_FULL, ...)',
    labelNames: [...BACKEND_LABELS, 'reason'],
    registers,
    collect() {
      this.reset();
      for (const t of totals()) for (const [reason, n] of t.dropped) this.inc({ ...relayLabels(t), reason }, n);
    },
  });
  new Counter({
    name: `${prefix}executions_total`,
    help: 'Executions (execute_request answered by an execute_reply) by the reply status: ok, error, aborted',
    labelNames: [...BACKEND_LABELS, 'status'],
    registers,
    collect() {
      this.reset();
      for (const t of totals()) for (const status of EXECUTION_STATUSES) this.inc({ ...relayLabels(t), status }, t.executions[status]);
    },
  });
  new TotalsHistogram(`${prefix}execution_duration_seconds`, 'Time from execute_request relayed to the backend to its execute_reply relayed back, as the router saw it', registry, totals);
}
