/**
 * max_backends: what holds a place, when a start fits, what a refusal says, and the culling
 * clock (idle_cull_seconds), as pure decisions and with an injected clock.
 */
import { describe, expect, it } from 'vitest';
import { FleetCapacity, describeHolder, fleetFull, hasRoom, reservationCounts, type CapacityHolder, type Reservation } from '../../../../src/fleet/manager/capacity.js';
import { IdleCulling, cullCause, cullVerdict, type CullVerdict } from '../../../../src/fleet/manager/culling.js';
import { restartsAfter } from '../../../../src/shared/exit.js';
import { describeExit } from '../../../../src/shared/exit.js';
import { isFleetError } from '../../../../src/shared/errors.js';

const PY = { runtime: 'python', provider: 'openai' };
const JS = { runtime: 'javascript', provider: 'openai' };

describe('max_backends: places and room', () => {
  it.each<[string, Reservation, boolean]>([
    ['a start whose process does not run yet', { requirement: PY, spawned: false }, true],
    ['a start whose backend is in the fleet (the backend holds the place)', { requirement: PY, spawned: true }, false],
    ['a restart while the old backend still runs (it holds the place)', { requirement: PY, replaces: { state: 'stopping' }, spawned: false }, false],
    ['a restart once the old backend has exited', { requirement: PY, replaces: { state: 'exited' }, spawned: false }, true],
    ['a restart whose new backend is in the fleet', { requirement: PY, replaces: { state: 'exited' }, spawned: true }, false],
  ])('%s: counts %s', (_what, reservation, counts) => {
    expect(reservationCounts(reservation)).toBe(counts);
  });

  it.each<[number | undefined, number, boolean]>([
    [undefined, 1000, true],
    [1, 0, true],
    [1, 1, false],
    [3, 2, true],
    [3, 3, false],
    [3, 4, false],
  ])('max %s with %i held: room %s', (max, held, room) => {
    expect(hasRoom({ max, held })).toBe(room);
  });

  it.each<[string, CapacityHolder, string]>([
    ['a ready backend', { kernelId: 'k1', requirement: PY, state: 'ready', clients: 1 }, 'kernel k1 (python/openai, ready, 1 client)'],
    ['a busy one in a group', { kernelId: 'k2', requirement: { ...JS, group: 'g' }, state: 'busy', clients: 2 }, 'kernel k2 (javascript/openai#g, busy, 2 clients)'],
    ['a start without a process yet', { requirement: PY, state: 'starting', clients: 0 }, 'a backend being started (python/openai, starting, 0 clients)'],
  ])('describes %s', (_what, holder, text) => {
    expect(describeHolder(holder)).toBe(text);
  });

  it('a refusal names the limit, every holder, and what to do; its context carries them as data', () => {
    const holders = [{ kernelId: 'k1', requirement: PY, state: 'ready', clients: 1 }];
    const error = fleetFull({ max: 1, holders, requirement: JS, source: '/home/u/fleet.toml' });
    expect(error.code).toBe('FLEET_FULL');
    expect(error.context).toEqual({ limit: 1, requirement: JS, holders });
    expect(error.message).toContain('max_backends = 1');
    expect(error.message).toContain('kernel k1 (python/openai, ready, 1 client)');
    expect(error.message).toContain('llmspell-fleet stop ID');
    expect(error.message).toContain('raise max_backends in /home/u/fleet.toml');
  });
});

describe('FleetCapacity: the check and the reservation are one step', () => {
  function capacity(live: () => number) {
    let refused = 0;
    const c = new FleetCapacity({ live, holders: () => [], onRefused: () => refused++ });
    return { c, refused: () => refused };
  }

  it('two starts at the same moment with one place left: the second is refused, and counted', () => {
    const { c, refused } = capacity(() => 1);
    c.reserve({ max: 2, requirement: PY });
    const error = (() => {
      try {
        c.reserve({ max: 2, requirement: JS });
      } catch (e) {
        return e;
      }
    })();
    expect(isFleetError(error) && error.code).toBe('FLEET_FULL');
    expect(isFleetError(error) && error.context.holders).toEqual([{ requirement: PY, state: 'starting', clients: 0 }]);
    expect(refused()).toBe(1);
  });

  it('a released start frees its place; a restart is never refused and does not count twice', () => {
    let live = 1;
    const { c } = capacity(() => live);
    const old = { state: 'ready' };
    const restart = c.reserve({ max: undefined, requirement: PY, replaces: old });
    expect(c.held()).toBe(1);
    old.state = 'exited';
    live = 0;
    // The old one has gone: the restart holds its place, so nothing else fits meanwhile.
    expect(c.held()).toBe(1);
    expect(() => c.reserve({ max: 1, requirement: JS })).toThrow(/max_backends = 1/);
    c.release(restart);
    expect(c.held()).toBe(0);
    expect(c.reserve({ max: 1, requirement: JS })).toMatchObject({ requirement: JS });
  });
});

describe('idle culling', () => {
  const S = 1000;
  it.each<[string, Parameters<typeof cullVerdict>[0], CullVerdict]>([
    ['no idle_cull_seconds', { cullMs: undefined, busy: false, activeAt: 0, now: 99 * S }, { action: 'off' }],
    ['zero is off', { cullMs: 0, busy: false, activeAt: 0, now: 99 * S }, { action: 'off' }],
    ['busy: never, however long', { cullMs: 2 * S, busy: true, activeAt: 0, now: 99 * S }, { action: 'busy' }],
    ['idle for part of it', { cullMs: 2 * S, busy: false, activeAt: 10 * S, now: 11 * S }, { action: 'wait', inMs: S }],
    ['idle for exactly the time', { cullMs: 2 * S, busy: false, activeAt: 10 * S, now: 12 * S }, { action: 'cull', idleMs: 2 * S }],
    ['idle for longer', { cullMs: 2 * S, busy: false, activeAt: 10 * S, now: 15 * S }, { action: 'cull', idleMs: 5 * S }],
    ['a clock that went back is no idle time', { cullMs: 2 * S, busy: false, activeAt: 10 * S, now: 9 * S }, { action: 'wait', inMs: 2 * S }],
  ])('%s', (_what, input, verdict) => {
    expect(cullVerdict(input)).toEqual(verdict);
  });

  /** IdleCulling with a hand-driven clock and timer. */
  function harness() {
    let now = 0;
    const timers: { at: number; run: () => void; live: boolean }[] = [];
    const culled: [string, number][] = [];
    const culling = new IdleCulling({
      onCull: (id, { cullSeconds }) => culled.push([id, cullSeconds]),
      now: () => now,
      schedule: (run, delayMs) => {
        const t = { at: now + delayMs, run, live: true };
        timers.push(t);
        return () => (t.live = false);
      },
    });
    const advance = (ms: number) => {
      now += ms;
      for (const t of timers.filter((x) => x.live && x.at <= now)) {
        t.live = false;
        t.run();
      }
    };
    const pending = () => timers.filter((t) => t.live).length;
    return { culling, culled, advance, pending };
  }

  it('culls after the whole idle time from the start, once', () => {
    const h = harness();
    h.culling.watch('k', 2);
    h.advance(1999);
    expect(h.culled).toEqual([]);
    h.advance(1);
    expect(h.culled).toEqual([['k', 2]]);
    h.advance(10_000);
    expect(h.culled).toHaveLength(1);
  });

  it('a busy backend is never culled; its clock starts again when it goes idle', () => {
    const h = harness();
    h.culling.watch('k', 2);
    h.advance(1500);
    h.culling.busy('k', true);
    expect(h.pending()).toBe(0);
    h.advance(60_000);
    expect(h.culled).toEqual([]);
    h.culling.busy('k', false);
    h.advance(1999);
    expect(h.culled).toEqual([]);
    h.advance(1);
    expect(h.culled).toEqual([['k', 2]]);
  });

  it('an attach restarts the clock; idle reported again without a busy does not', () => {
    const h = harness();
    h.culling.watch('k', 2);
    h.advance(1500);
    h.culling.touched('k');
    h.advance(1500);
    h.culling.busy('k', false);
    h.advance(499);
    expect(h.culled).toEqual([]);
    h.advance(1);
    expect(h.culled).toEqual([['k', 2]]);
  });

  it('no idle_cull_seconds: no timer; forget and close end the timers', () => {
    const h = harness();
    h.culling.watch('off', undefined);
    h.culling.watch('a', 1);
    h.culling.watch('b', 1);
    expect(h.pending()).toBe(2);
    h.culling.forget('a');
    h.culling.close();
    h.advance(5000);
    expect(h.culled).toEqual([]);
  });

  it('the cause reads as a sentence in every client, and a culled backend is not restarted at once', () => {
    const exit = { exitCode: null, signal: 'SIGTERM', reason: 'culled', cause: cullCause(600) };
    expect(describeExit(exit)).toBe('was culled after 600 s without running a cell (idle_cull_seconds)');
    expect(restartsAfter(exit)).toBe(false);
    expect(restartsAfter({ reason: 'signalled' })).toBe(true);
  });
});
