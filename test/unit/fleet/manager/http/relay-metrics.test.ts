import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RELAY_COUNTERS, histogramValues, registerRelayMetrics, relayLabels } from '../../../../../src/fleet/manager/http/relay-metrics.js';
import { RelayTotals } from '../../../../../src/fleet/manager/relay-totals.js';
import { EXECUTION_BUCKETS_SECONDS } from '../../../../../src/shared/relay-counts.js';

const buckets = (counts: Record<number, number>) => Array.from({ length: EXECUTION_BUCKETS_SECONDS.length + 1 }, (_, i) => counts[i] ?? 0);

describe('relay metrics', () => {
  it('labels a total as Prometheus names them', () => {
    expect(relayLabels({ labels: { kernelId: 'k', runtime: 'python', provider: 'openai', group: 'g' } })).toEqual({ kernel_id: 'k', runtime: 'python', provider: 'openai', group: 'g' });
  });

  it('turns per-bucket counts into cumulative buckets, +Inf, _sum and _count', () => {
    const values = histogramValues('h', { kernel_id: 'k' }, buckets({ 0: 1, 2: 2, [EXECUTION_BUCKETS_SECONDS.length]: 1 }), 4000);
    const le = (bound: string) => values.find((v) => v.metricName === 'h_bucket' && v.labels.le === bound)?.value;
    expect([le('0.005'), le('0.01'), le('0.025'), le('3600'), le('+Inf')]).toEqual([1, 1, 3, 3, 4]);
    expect(values.find((v) => v.metricName === 'h_count')).toEqual({ metricName: 'h_count', labels: { kernel_id: 'k' }, value: 4 });
    expect(values.find((v) => v.metricName === 'h_sum')?.value).toBe(4000);
  });

  it('exports the totals, with zero for statuses not seen and no series for what was never relayed', async () => {
    const totals = new RelayTotals();
    totals.add('k', { relayed: [{ channel: 'shell', direction: 'to_backend', messages: 3, bytes: 300 }], dropped: { TOO_LARGE: 2 }, executions: { ok: 3 }, durations: { buckets: buckets({ 4: 3 }), sumSeconds: 0.2 } }, () => ({ kernelId: 'k', runtime: 'python', provider: 'openai', group: '' }));
    const registry = new Registry();
    registerRelayMetrics(registry, 'x_', () => totals.all());
    const text = await registry.metrics();
    const l = 'kernel_id="k",runtime="python",provider="openai",group=""';
    expect(text).toContain(`x_messages_relayed_total{${l},channel="shell",direction="to_backend"} 3`);
    expect(text).toContain(`x_relayed_bytes_total{${l},channel="shell",direction="to_backend"} 300`);
    expect(text).not.toContain('direction="to_client"');
    expect(text).toContain(`x_messages_dropped_total{${l},reason="TOO_LARGE"} 2`);
    expect(text).toContain(`x_executions_total{${l},status="ok"} 3`);
    expect(text).toContain(`x_executions_total{${l},status="aborted"} 0`);
    expect(text).toContain('# TYPE x_execution_duration_seconds histogram');
    expect(text).toContain(`x_execution_duration_seconds_bucket{${l},le="0.1"} 3`);
    expect(text).toContain(`x_execution_duration_seconds_bucket{${l},le="+Inf"} 3`);
    expect(text).toContain(`x_execution_duration_seconds_count{${l}} 3`);
  });

  it.each<[string, [Record<string, string>, number][]]>([
    ['messages_relayed_total', [[{ channel: 'shell', direction: 'to_backend' }, 3], [{ channel: 'iopub', direction: 'to_client' }, 5]]],
    ['relayed_bytes_total', [[{ channel: 'shell', direction: 'to_backend' }, 300], [{ channel: 'iopub', direction: 'to_client' }, 900]]],
    ['messages_dropped_total', [[{ reason: 'TOO_LARGE' }, 2]]],
    ['executions_total', [[{ status: 'ok' }, 3], [{ status: 'error' }, 0], [{ status: 'aborted' }, 0]]],
  ])('%s: one series per label value the total has', (name, series) => {
    const totals = new RelayTotals();
    const relayed = [
      { channel: 'shell', direction: 'to_backend', messages: 3, bytes: 300 },
      { channel: 'iopub', direction: 'to_client', messages: 5, bytes: 900 },
    ] as const;
    totals.add('k', { relayed: [...relayed], dropped: { TOO_LARGE: 2 }, executions: { ok: 3 } }, () => ({ kernelId: 'k', runtime: 'python', provider: 'openai', group: '' }));
    const counter = RELAY_COUNTERS.find((c) => c.name === name)!;
    expect(counter.series(totals.all()[0]!)).toEqual(series);
    for (const [labels] of series) expect(Object.keys(labels)).toEqual(counter.labels);
  });
});
