import { describe, expect, it } from 'vitest';
import { FamilySampler } from '../../../../src/fleet/manager/backend-usage.js';
import type { GroupUsage } from '../../../../src/fleet/manager/proc-usage.js';

/** A sampler over a fake /proc reader that counts its reads, on a clock the test moves. */
function sampler(tickMs = 1000) {
  const clock = { now: 10_000 };
  const reads: number[][] = [];
  const families = new FamilySampler({
    now: () => clock.now,
    tickMs,
    read: (leaders) => {
      reads.push([...leaders]);
      return new Map(leaders.map((l): [number, GroupUsage] => [l, { processes: 1, residentBytes: l, cpuSeconds: reads.length }]));
    },
  });
  return { clock, reads, families };
}

describe('FamilySampler: one family reading per tick for list, /metrics and usage', () => {
  it.each<[string, { after: number; leaders: number[] }[], number[][]]>([
    ['list, scrape and usage in one tick: one read', [{ after: 0, leaders: [1, 2] }, { after: 100, leaders: [1, 2] }, { after: 200, leaders: [2] }], [[1, 2]]],
    ['the next tick reads again', [{ after: 0, leaders: [1, 2] }, { after: 1000, leaders: [1, 2] }], [[1, 2], [1, 2]]],
    ['a backend the reading did not measure gets a fresh one', [{ after: 0, leaders: [1] }, { after: 10, leaders: [1, 3] }], [[1], [1, 3]]],
    ['a usage first, then a list: the list reads all', [{ after: 0, leaders: [2] }, { after: 10, leaders: [1, 2] }, { after: 20, leaders: [2] }], [[2], [1, 2]]],
    ['a clock that went back reads again', [{ after: 0, leaders: [1] }, { after: -5000, leaders: [1] }], [[1], [1]]],
  ])('%s', (_name, calls, expected) => {
    const { clock, reads, families } = sampler();
    for (const { after, leaders } of calls) {
      clock.now += after;
      families.read(leaders);
    }
    expect(reads).toEqual(expected);
  });

  it('a reading shared in a tick carries the time it was taken (what CPU % is computed over)', () => {
    const { clock, families } = sampler();
    const first = families.read([1]);
    clock.now += 500;
    const again = families.read([1]);
    expect(again).toBe(first);
    expect(again.at).toBe(10_000);
  });
});
