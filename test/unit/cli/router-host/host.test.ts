import { describe, expect, it } from 'vitest';
import { idleWaitMs } from '../../../../src/cli/router-host/host.js';

describe('idleWaitMs', () => {
  it.each([
    ['after a session: the linger', { served: true, contacted: true, lingerMs: 30_000, firstSessionMs: 10_000 }, 30_000],
    ['after a session, linger 0: at once', { served: true, contacted: true, lingerMs: 0, firstSessionMs: 10_000 }, 0],
    ['nobody came yet: the first stub gets its time even with linger 0', { served: false, contacted: false, lingerMs: 0, firstSessionMs: 10_000 }, 10_000],
    ['nobody came yet, a longer linger', { served: false, contacted: false, lingerMs: 30_000, firstSessionMs: 10_000 }, 30_000],
    ['stubs came and were all sent back: at once', { served: false, contacted: true, lingerMs: 30_000, firstSessionMs: 10_000 }, 0],
  ])('%s', (_name, state, expected) => {
    expect(idleWaitMs(state)).toBe(expected);
  });
});
