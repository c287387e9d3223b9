import { describe, expect, it } from 'vitest';
import { BusyTracker } from '../../../src/router/busy.js';

type Status = [parent: string | undefined, state: string];

describe('BusyTracker', () => {
  it.each<[string, Status[], boolean[]]>([
    ['one cell', [['a', 'busy'], ['a', 'idle']], [true, false]],
    ['a control request inside a running cell keeps it busy', [['cell', 'busy'], ['info', 'busy'], ['info', 'idle'], ['cell', 'idle']], [true, true, true, false]],
    ['idle for a request never seen busy', [['x', 'idle']], [false]],
    ['starting: a new kernel runs nothing', [['a', 'busy'], [undefined, 'starting']], [true, false]],
    ['no parent (a kernel at start) pairs with itself', [[undefined, 'busy'], [undefined, 'idle']], [true, false]],
    ['an unknown state changes nothing', [['a', 'busy'], ['a', 'restarting']], [true, true]],
  ])('%s', (_, statuses, expected) => {
    const tracker = new BusyTracker();
    expect(statuses.map(([parent, state]) => (tracker.status(parent, state), tracker.busy))).toEqual(expected);
  });

  it('says when busy changed, not on every status', () => {
    const tracker = new BusyTracker();
    expect([tracker.status('a', 'busy'), tracker.status('b', 'busy'), tracker.status('a', 'idle'), tracker.status('b', 'idle')]).toEqual([true, false, false, true]);
  });

  it('is bounded: idles that never come do not grow it past max', () => {
    const tracker = new BusyTracker(2);
    for (const id of ['a', 'b', 'c']) tracker.status(id, 'busy');
    tracker.status('b', 'idle');
    tracker.status('c', 'idle');
    expect(tracker.busy).toBe(false);
  });
});
