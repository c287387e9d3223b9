import { describe, expect, it } from 'vitest';
import { RelayTotals } from '../../../../src/fleet/manager/relay-totals.js';
import { EXECUTION_BUCKETS_SECONDS } from '../../../../src/shared/relay-counts.js';

const labels = () => ({ kernelId: 'k', runtime: 'python', provider: 'openai', group: '' });
const buckets = (at: number, n: number) => Array.from({ length: EXECUTION_BUCKETS_SECONDS.length + 1 }, (_, i) => (i === at ? n : 0));

describe('RelayTotals', () => {
  it('adds deltas from any number of reports (routers) into one total per backend', () => {
    const totals = new RelayTotals();
    expect(totals.add('k', { relayed: [{ channel: 'shell', direction: 'to_backend', messages: 2, bytes: 20 }], executions: { ok: 2 }, durations: { buckets: buckets(3, 2), sumSeconds: 0.06 } }, labels)).toBe(true);
    expect(totals.add('k', { relayed: [{ channel: 'shell', direction: 'to_backend', messages: 3, bytes: 30 }, { channel: 'iopub', direction: 'to_client', messages: 9, bytes: 90 }], dropped: { BAD_SIGNATURE: 1 }, executions: { error: 1 }, durations: { buckets: buckets(3, 1), sumSeconds: 0.04 } })).toBe(true);
    const [total] = totals.all();
    expect(total!.labels).toEqual(labels());
    expect(Object.fromEntries(total!.relayed)).toEqual({ 'shell:to_backend': { messages: 5, bytes: 50 }, 'iopub:to_client': { messages: 9, bytes: 90 } });
    expect(Object.fromEntries(total!.dropped)).toEqual({ BAD_SIGNATURE: 1 });
    expect(total!.executions).toEqual({ ok: 2, error: 1, aborted: 0 });
    expect(total!.buckets).toEqual(buckets(3, 3));
    expect(total!.sumSeconds).toBeCloseTo(0.1);
    expect(totals.messages('k')).toBe(14);
  });

  it('a first report for a backend the fleet does not know is refused', () => {
    const totals = new RelayTotals();
    expect(totals.add('nobody', { executions: { ok: 1 } })).toBe(false);
    expect(totals.all()).toEqual([]);
    expect(totals.messages('nobody')).toBeUndefined();
  });

  it.each([
    ['still kept just before the retention ends', 600_000, 1],
    ['dropped after it', 600_001, 0],
  ])('a gone backend: %s', (_, later, kept) => {
    let now = 1000;
    const totals = new RelayTotals(600_000, () => now);
    totals.add('k', { executions: { ok: 1 } }, labels);
    totals.retire('k');
    now += later;
    // A router's last report after the exit still counts while the totals are kept.
    totals.add('k', { executions: { ok: 1 } });
    expect(totals.all()).toHaveLength(kept);
  });
});
