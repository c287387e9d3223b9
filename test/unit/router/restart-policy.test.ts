import { describe, expect, it } from 'vitest';
import { decideRestart } from '../../../src/router/restart-policy.js';

const policy = { limit: 3, windowMs: 60_000, firstDelayMs: 250 };

describe('decideRestart', () => {
  it.each([
    ['first death', [], 100_000, { restart: true, delayMs: 250 }],
    ['second in the window doubles', [90_000], 100_000, { restart: true, delayMs: 500 }],
    ['third in the window doubles again', [80_000, 90_000], 100_000, { restart: true, delayMs: 1000 }],
    ['one over the limit stops', [70_000, 80_000, 90_000], 100_000, { restart: false, deaths: 4 }],
    ['old deaths fall out of the window', [10_000, 20_000, 30_000], 100_000, { restart: true, delayMs: 250 }],
    ['exactly a window ago no longer counts', [40_000], 100_000, { restart: true, delayMs: 250 }],
  ] as const)('%s', (_name, history, now, expected) => {
    expect(decideRestart(history, now, policy)).toMatchObject(expected);
  });

  it('returns the pruned history with this death appended', () => {
    expect(decideRestart([1, 2, 95_000], 100_000, policy).history).toEqual([95_000, 100_000]);
  });
});

describe('decideRestart with restarts off', () => {
  it('never restarts when the limit is 0 (router.restart_limit = 0)', () => {
    expect(decideRestart([], 100_000, { ...policy, limit: 0 })).toMatchObject({ restart: false, deaths: 1 });
  });
});
