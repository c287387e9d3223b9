import { describe, expect, it } from 'vitest';
import { bucketOf, EXECUTION_BUCKETS_SECONDS, executionStatus, RelayCounts, RELAY_CHANNELS, slotLabels, TO_BACKEND, TO_CLIENT } from '../../../src/shared/relay-counts.js';

describe('relay counts: label mapping', () => {
  it.each([
    ['shell', TO_BACKEND.shell, 'to_backend'],
    ['shell', TO_CLIENT.shell, 'to_client'],
    ['control', TO_BACKEND.control, 'to_backend'],
    ['control', TO_CLIENT.control, 'to_client'],
    ['stdin', TO_BACKEND.stdin, 'to_backend'],
    ['stdin', TO_CLIENT.stdin, 'to_client'],
    ['iopub', TO_CLIENT.iopub, 'to_client'],
  ] as const)('%s slot %i is %s', (channel, slot, direction) => {
    expect(slotLabels(slot)).toEqual({ channel, direction });
  });

  it('every slot is distinct and within the arrays', () => {
    const slots = [...Object.values(TO_BACKEND), ...Object.values(TO_CLIENT)];
    expect(new Set(slots).size).toBe(slots.length);
    expect(Math.max(...slots)).toBeLessThan(RELAY_CHANNELS.length * 2);
  });

  it.each([
    [0, 0],
    [0.005, 0],
    [0.0051, 1],
    [1, 7],
    [3600, EXECUTION_BUCKETS_SECONDS.length - 1],
    [3601, EXECUTION_BUCKETS_SECONDS.length],
  ])('%f s falls in bucket %i', (seconds, bucket) => {
    expect(bucketOf(seconds)).toBe(bucket);
  });

  it.each([
    ['ok', 'ok'],
    ['error', 'error'],
    ['aborted', 'aborted'],
    [undefined, 'error'],
    ['something', 'error'],
  ])('execute_reply status %s counts as %s', (status, counted) => {
    expect(executionStatus(status)).toBe(counted);
  });
});

describe('RelayCounts: deltas', () => {
  it('nothing counted: no delta', () => {
    expect(new RelayCounts().take()).toBeUndefined();
  });

  it('a delta has what was counted since the last take, and only that', () => {
    const counts = new RelayCounts();
    counts.relayed(TO_BACKEND.shell, 100);
    counts.relayed(TO_BACKEND.shell, 50);
    counts.relayed(TO_CLIENT.iopub, 7);
    counts.dropped('BAD_SIGNATURE');
    counts.executed('ok', 0.2);
    counts.executed('error', 2000);
    const delta = counts.take()!;
    expect(delta.relayed).toEqual([
      { channel: 'shell', direction: 'to_backend', messages: 2, bytes: 150 },
      { channel: 'iopub', direction: 'to_client', messages: 1, bytes: 7 },
    ]);
    expect(delta.dropped).toEqual({ BAD_SIGNATURE: 1 });
    expect(delta.executions).toEqual({ ok: 1, error: 1 });
    expect(delta.durations!.buckets[bucketOf(0.2)]).toBe(1);
    expect(delta.durations!.buckets[bucketOf(2000)]).toBe(1);
    expect(delta.durations!.buckets.reduce((a, b) => a + b)).toBe(2);
    expect(delta.durations!.sumSeconds).toBeCloseTo(2000.2);
    expect(counts.take()).toBeUndefined();
    counts.relayed(TO_CLIENT.shell, 3);
    expect(counts.take()).toEqual({ relayed: [{ channel: 'shell', direction: 'to_client', messages: 1, bytes: 3 }] });
  });

  it('a drop reason that is not a code, or one reason too many for a report, counts as OTHER', () => {
    const counts = new RelayCounts();
    counts.dropped('x{y}="1"');
    for (let i = 0; i < 40; i++) counts.dropped(`REASON_${i}`);
    counts.dropped('REASON_0');
    const dropped = counts.take()!.dropped!;
    // One slot stays for OTHER: 30 reasons and OTHER here (OTHER came first).
    expect(Object.keys(dropped)).toHaveLength(31);
    expect(dropped.REASON_0).toBe(2);
    expect(dropped.REASON_29).toBe(1);
    expect(dropped.OTHER).toBe(1 + 10);
  });

  it('a restored delta comes back in the next one, added to what came since', () => {
    const counts = new RelayCounts();
    counts.relayed(TO_BACKEND.control, 10);
    counts.dropped('TOO_LARGE');
    counts.executed('aborted', 0.001);
    const unsent = counts.take()!;
    counts.relayed(TO_BACKEND.control, 5);
    counts.restore(unsent);
    const next = counts.take()!;
    expect(next.relayed).toEqual([{ channel: 'control', direction: 'to_backend', messages: 2, bytes: 15 }]);
    expect(next.dropped).toEqual({ TOO_LARGE: 1 });
    expect(next.executions).toEqual({ aborted: 1 });
    expect(next.durations!.buckets[0]).toBe(1);
  });
});
