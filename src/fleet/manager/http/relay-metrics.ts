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
export function histogramValues(
  name: string,
  labels: Record<string, string>,
  buckets: readonly number[],
  sumSeconds: number,
  bounds: readonly number[] = EXECUTION_BUCKETS_SECONDS,
): { metricName: string; labels: Record<string, string>; value: number }[] {
  const values: { metricName: string; labels: Record<string, string>; value: number }[] = [];
  let cumulative = 0;
  buckets.forEach((n, i) => {
    cumulative += n;
    const le = i < bounds.length ? String(bounds[i]) : '+Inf';
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
export class TotalsHistogram extends Histogram<string> {
  constructor(
    private readonly metricName: string,
    private readonly helpText: string,
    registry: Registry,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
    /** Each series: its labels, per-bucket counts (the last is +Inf) and the sum, read at scrape time. */
    private readonly series: () => { labels: Record<string, string>; buckets: readonly number[]; sumSeconds: number }[],
  ) {
    super({ name: metricName, help: helpText, labelNames: [...labelNames], buckets: [...bounds], registers: [registry] });
  }

  override async get(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    const values = this.series().flatMap((t) => histogramValues(this.metricName, t.labels, t.buckets, t.sumSeconds, this.bounds));
    const metric = { name: this.metricName, help: this.helpText, type: 'histogram', aggregator: 'sum', values };
    return metric as unknown as Awaited<ReturnType<Histogram<string>['get']>>;
  }

  /** What the registry renders text from when a metric has it (prom-client's Histogram does): the same. */
  getForPromString(): ReturnType<Histogram<string>['get']> {
    return this.get();
  }
}

type Series = readonly [labels: Record<string, string>, value: number];

/** Pure: a total's relayed messages or bytes, one series per channel and direction it has seen. */
function relayedSeries(total: RelayTotal, what: 'messages' | 'bytes'): Series[] {
  return [...total.relayed].map(([key, sums]) => {
    const [channel = '', direction = ''] = key.split(':');
    return [{ channel, direction }, sums[what]];
  });
}

/** The counters read from the totals at scrape time: each series adds its labels to the backend's. */
export const RELAY_COUNTERS: readonly { name: string; help: string; labels: readonly string[]; series: (total: RelayTotal) => Series[] }[] = [
  {
    name: 'messages_relayed_total',
    help: 'Messages routers relayed between clients and the backend, by channel and direction (to_backend, to_client)',
    labels: ['channel', 'direction'],
    series: (t) => relayedSeries(t, 'messages'),
  },
  {
    name: 'relayed_bytes_total',
    help: 'Bytes of the messages routers relayed (header, parent header, metadata, content and buffers), by channel and direction',
    labels: ['channel', 'direction'],
    series: (t) => relayedSeries(t, 'bytes'),
  },
  {
    name: 'messages_dropped_total',
    help: 'Messages routers dropped for the backend, by reason (BAD_SIGNATURE, TOO_LARGE, PENDING_FULL, ...)',
    labels: ['reason'],
    series: (t) => [...t.dropped].map(([reason, n]) => [{ reason }, n]),
  },
  {
    name: 'executions_total',
    help: 'Executions (execute_request answered by an execute_reply) by the reply status: ok, error, aborted',
    labels: ['status'],
    series: (t) => EXECUTION_STATUSES.map((status) => [{ status }, t.executions[status]]),
  },
];

export function registerRelayMetrics(registry: Registry, prefix: string, totals: () => RelayTotal[]): void {
  for (const counter of RELAY_COUNTERS) {
    new Counter({
      name: `${prefix}${counter.name}`,
      help: counter.help,
      labelNames: [...BACKEND_LABELS, ...counter.labels],
      registers: [registry],
      collect() {
        this.reset();
        for (const t of totals()) for (const [labels, value] of counter.series(t)) this.inc({ ...relayLabels(t), ...labels }, value);
      },
    });
  }
  new TotalsHistogram(
    `${prefix}execution_duration_seconds`,
    'Time from execute_request relayed to the backend to its execute_reply relayed back, as the router saw it',
    registry,
    BACKEND_LABELS,
    EXECUTION_BUCKETS_SECONDS,
    () => totals().map((t) => ({ labels: relayLabels(t), buckets: t.buckets, sumSeconds: t.sumSeconds })),
  );
}
