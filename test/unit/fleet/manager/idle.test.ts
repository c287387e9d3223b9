/**
 * The pure decisions behind "an idle manager exits" and "linger covers every kind of backend":
 * what holds the manager, when its idle clock runs out, and when each kind of backend starts
 * (and so ends) its linger.
 */
import { describe, expect, it } from 'vitest';
import { adoptedLinger, lingerDelay, lingerFor, staleRouters } from '../../../../src/fleet/manager/attachments.js';
import type { RouterRef } from '../../../../src/fleet/manager/entry.js';
import { holders, idleVerdict, type ManagerHolds } from '../../../../src/fleet/manager/idle.js';

const NOTHING: ManagerHolds = { backends: 0, starts: 0, connections: 0, requests: 0, http: 0 };
const MIN = 60_000;

describe('idleVerdict: is the manager held, and has it been idle long enough', () => {
  it.each<[string, Partial<ManagerHolds>, number | undefined, number, number, ReturnType<typeof idleVerdict>]>([
    ['nothing held, clock starts now', {}, undefined, 10 * MIN, 1000, { action: 'wait', idleSince: 1000, inMs: 10 * MIN }],
    ['nothing held, part of the time gone', {}, 1000, 10 * MIN, 1000 + 4 * MIN, { action: 'wait', idleSince: 1000, inMs: 6 * MIN }],
    ['nothing held for exactly the idle time', {}, 1000, 10 * MIN, 1000 + 10 * MIN, { action: 'exit', idleSince: 1000 }],
    ['nothing held for longer', {}, 1000, 1000, 99_000, { action: 'exit', idleSince: 1000 }],
    ['a backend (adopted, spawned, starting or stopping)', { backends: 1 }, 1000, 1000, 99_000, { action: 'held', by: ['1 backends'] }],
    ['a backend start whose process is not known yet', { starts: 1 }, 1000, 1000, 99_000, { action: 'held', by: ['1 starts'] }],
    ['a connected router or command', { connections: 2 }, 1000, 1000, 99_000, { action: 'held', by: ['2 connections'] }],
    ['a request still being answered for a client that left', { requests: 1 }, undefined, 1000, 99_000, { action: 'held', by: ['1 requests'] }],
    ['an HTTP API request being answered', { http: 1 }, undefined, 1000, 99_000, { action: 'held', by: ['1 http'] }],
    ['several at once', { backends: 1, connections: 1 }, undefined, 1000, 0, { action: 'held', by: ['1 backends', '1 connections'] }],
    ['manager_idle_seconds = 0: never, even with nothing held', {}, 0, 0, 10 * MIN, { action: 'never' }],
    ['manager_idle_seconds = 0: never, held or not', { backends: 1 }, undefined, 0, 0, { action: 'never' }],
    ['a non-number idle time is treated as never', {}, 0, Number.NaN, 10 * MIN, { action: 'never' }],
  ])('%s', (_what, held, idleSince, idleMs, now, expected) => {
    expect(idleVerdict({ holds: { ...NOTHING, ...held }, idleSince, idleMs, now })).toEqual(expected);
  });

  it('names nothing when nothing holds the manager', () => {
    expect(holders(NOTHING)).toEqual([]);
  });
});

/** When the linger of a backend ends, given how it came to have nobody attached. */
describe('linger covers every kind of backend', () => {
  const LINGER = 0;
  const GRACE = 15_000;
  const NOW = 1_000_000;
  const runs = new Set([111]);
  const routerRuns = (pid: number) => runs.has(pid);

  /** Pure composition of the two decisions: when the stop is due, measured from NOW. */
  function adoptedStopDueIn(record: { attached: { routerId: string; pid: number }[]; idleSince?: number }): number | 'after-grace' {
    const plan = adoptedLinger(record, { graceMs: GRACE, now: NOW, routerRuns });
    return 'idleSince' in plan ? lingerDelay(plan.idleSince, LINGER * 1000, NOW) : 'after-grace';
  }

  it.each<[string, { attached: { routerId: string; pid: number }[]; idleSince?: number }, number | 'after-grace']>([
    ['adopted, no router recorded, idle since long ago', { attached: [], idleSince: NOW - 5 * MIN }, 0],
    ['adopted, no router recorded, no idle time recorded (its manager died while it started)', { attached: [] }, 0],
    ['adopted, its router gave up during start-up and is gone', { attached: [{ routerId: 'r-gone', pid: 222 }] }, 0],
    ['adopted, every recorded router is gone', { attached: [{ routerId: 'a', pid: 222 }, { routerId: 'b', pid: 333 }] }, 0],
    ['adopted, one recorded router still runs: it gets the grace to re-attach', { attached: [{ routerId: 'a', pid: 222 }, { routerId: 'b', pid: 111 }] }, 'after-grace'],
  ])('%s', (_what, record, expected) => {
    expect(adoptedStopDueIn(record)).toBe(expected);
  });

  it.each<[string, number, number, number]>([
    ['linger 0, idle just now', 0, 0, 0],
    ['linger 300 s, idle 100 s ago', 100_000, 300_000, 200_000],
    ['linger 300 s, idle 400 s ago: due at once', 400_000, 300_000, 0],
  ])('a spawned backend whose last router left (or that nobody attached to: find, spawn): %s', (_what, idleAgo, lingerMs, expected) => {
    expect(lingerDelay(NOW - idleAgo, lingerMs, NOW)).toBe(expected);
  });

  it.each<[string, number, number | undefined, number]>([
    ['no restart: linger_seconds', 5_000, undefined, 5_000],
    ['restarted, its router left 1 s after: the rest of a 15 s window, over linger 0', 0, 14_000, 14_000],
    ['restarted, idle only after the window closed: linger_seconds', 0, -1, 0],
    ['restarted, linger longer than the window: linger_seconds', 60_000, 15_000, 60_000],
  ])('how long a backend lingers: %s', (_what, lingerMs, reattachIn, expected) => {
    const since = NOW;
    expect(lingerFor(lingerMs, since, reattachIn === undefined ? undefined : since + reattachIn)).toBe(expected);
  });

  it.each<[string, RouterRef[], number[], string[]]>([
    ['a router whose connection closed while its acquire spawned the backend', [{ routerId: 'r1', pid: 1, conn: 4 }], [], ['r1']],
    ['a router still connected', [{ routerId: 'r1', pid: 1, conn: 4 }], [4], []],
    ['only the closed one of two', [{ routerId: 'r1', pid: 1, conn: 4 }, { routerId: 'r2', pid: 1, conn: 5 }], [5], ['r1']],
    ['a router attached without a connection (in-process use) is never stale', [{ routerId: 'r1', pid: 1 }], [], []],
  ])('stale attachments: %s', (_what, attached, open, expected) => {
    expect(staleRouters(attached, (conn) => open.includes(conn)).map((r) => r.routerId)).toEqual(expected);
  });
});
