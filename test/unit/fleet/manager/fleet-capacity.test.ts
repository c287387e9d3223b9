/**
 * max_backends and idle_cull_seconds in the FleetManager, with stand-in backends (real
 * processes): concurrent starts cannot overshoot, refusals name the holders, restarts and
 * shared backends never count twice; idle backends are culled with their routers told, busy
 * ones never.
 */
import { describe, expect, it } from 'vitest';
import type { RouterRef } from '../../../../src/fleet/manager/entry.js';
import { FleetManager } from '../../../../src/fleet/manager/fleet.js';
import type { ManagerEvent } from '../../../../src/fleet/manager/protocol.js';
import type { FleetConfig } from '../../../../src/fleet/types.js';
import { isFleetError } from '../../../../src/shared/errors.js';
import { useTempFleet } from './standin-fleet.js';

const OPENAI = { runtime: 'standin', provider: 'openai' };
const ANTHROPIC = { runtime: 'standin', provider: 'anthropic' };

const temp = useTempFleet();

function manager(change: (c: FleetConfig) => FleetConfig): FleetManager {
  const m = new FleetManager({ home: temp.fleet.home, loadConfig: async () => change(temp.fleet.config()) });
  temp.managers.push(m);
  return m;
}

const withMax = (max: number) => (c: FleetConfig): FleetConfig => ({ ...c, max_backends: max });
const withCull = (seconds: number) => (c: FleetConfig): FleetConfig => ({ ...c, runtimes: { ...c.runtimes, standin: { ...c.runtimes.standin, idle_cull_seconds: seconds } } });

const router = (routerId: string, conn?: number): RouterRef => ({ routerId, pid: process.pid, ...(conn !== undefined ? { conn } : {}) });

/** The first backend-exited event for `kernelId`, with the routers it went to. */
function exitOf(m: FleetManager, kernelId: string): Promise<{ event: ManagerEvent; to: readonly RouterRef[] }> {
  return new Promise((resolve) => {
    const off = m.onEvent((event, to) => {
      if (event.event === 'backend-exited' && event.kernelId === kernelId) {
        off();
        resolve({ event, to });
      }
    });
  });
}

describe('max_backends', () => {
  it('two concurrent starts of different requirements with max 1: one starts, the other is refused naming it', async () => {
    const m = manager(withMax(1));
    const results = await Promise.allSettled([m.acquire(OPENAI, router('a', 1)), m.acquire(ANTHROPIC, router('b', 2))]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(ok).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const error = refused[0];
    expect(isFleetError(error) && error.code).toBe('FLEET_FULL');
    const listed = m.list();
    expect(listed).toHaveLength(1);
    const holder = listed[0]!;
    // Refused while the other was still starting (no kernel id yet) or after (with it): either way it is named.
    if (!isFleetError(error)) throw error;
    const holders = error.context.holders as { kernelId?: string; requirement: { provider: string } }[];
    expect(holders).toHaveLength(1);
    expect(holders[0]!.requirement.provider).toBe(holder.requirement.provider);
    if (holders[0]!.kernelId !== undefined) expect(holders[0]!.kernelId).toBe(holder.kernelId);
    expect(m.counters.snapshot().spawns).toEqual({ ok: 1, failed: 0, refused: 1 });

    // After stopping the holder, the refused requirement starts.
    await m.stop(holder.kernelId);
    const other = holder.requirement.provider === 'openai' ? ANTHROPIC : OPENAI;
    const next = await m.acquire(other, router('c', 3));
    expect(next.record.requirement.provider).toBe(other.provider);
  });

  it('reaching a running shared backend, many at once, and restarting it never count twice', async () => {
    const m = manager(withMax(1));
    const handles = await Promise.all(Array.from({ length: 5 }, (_, i) => m.acquire(OPENAI, router(`r${i}`, i))));
    expect(new Set(handles.map((h) => h.record.kernelId)).size).toBe(1);
    const first = handles[0]!;
    const restarted = await m.restart(first.record.kernelId, 'r0');
    expect(restarted.record.kernelId).not.toBe(first.record.kernelId);
    // During the restart nothing else could take its place; after it, the fleet is still full.
    const error = await m.acquire(ANTHROPIC, router('x', 9)).catch((e: unknown) => e);
    expect(isFleetError(error) && error.code).toBe('FLEET_FULL');
    expect(isFleetError(error) && error.message).toContain(`kernel ${restarted.record.kernelId} (standin/openai, ready, 5 clients)`);
    expect(m.counters.snapshot().spawns).toEqual({ ok: 2, failed: 0, refused: 1 });
  });

  it('spawn (a new backend even if one runs) counts; find of a running one does not', async () => {
    const m = manager(withMax(1));
    const held = await m.acquire(OPENAI, router('r1', 1));
    expect((await m.find(OPENAI)).record.kernelId).toBe(held.record.kernelId);
    const error = await m.spawn(OPENAI).catch((e: unknown) => e);
    expect(isFleetError(error) && error.code).toBe('FLEET_FULL');
  });

  it('a start waits for a backend that is stopping (linger 0) instead of being refused', async () => {
    const m = manager(withMax(1));
    const first = await m.acquire(OPENAI, router('r1', 1));
    const stopping = new Promise<void>((resolve) => {
      const off = m.observe(() => {
        if (m.list()[0]?.state !== 'stopping') return;
        off();
        resolve();
      });
    });
    m.release(first.record.kernelId, 'r1');
    await stopping;
    const next = await m.acquire(ANTHROPIC, router('r2', 2));
    expect(m.list().map((b) => b.kernelId)).toEqual([next.record.kernelId]);
    expect(m.counters.snapshot().spawns.refused).toBe(0);
  });
});

describe('idle_cull_seconds', () => {
  it('an idle backend with a router attached is culled: the router hears why, the exit is counted, list forgets it', async () => {
    const m = manager(withCull(2));
    const h = await m.acquire(OPENAI, router('r1', 1));
    // A cell ran: busy, then idle; the clock starts at the idle.
    m.executionState(h.record.kernelId, 'r1', 'busy');
    m.executionState(h.record.kernelId, 'r1', 'idle');
    const { event, to } = await exitOf(m, h.record.kernelId);
    expect(event).toMatchObject({ event: 'backend-exited', reason: 'culled', cause: 'culled after 2 s without running a cell (idle_cull_seconds)' });
    expect(to.map((r) => r.routerId)).toEqual(['r1']);
    expect(m.counters.snapshot().exits).toMatchObject({ culled: 1 });
    expect(m.list()).toEqual([]);
    // The next request starts a new one.
    const again = await m.acquire(OPENAI, router('r1', 1));
    expect(again.record.kernelId).not.toBe(h.record.kernelId);
  });

  it('a busy backend is not culled while another, idle since after it went busy, is', async () => {
    const m = manager(withCull(2));
    const busy = await m.acquire(OPENAI, router('r1', 1));
    m.executionState(busy.record.kernelId, 'r1', 'busy');
    // Started after the first went busy: when it is culled, the busy one has been busy longer than the cull time.
    const idle = await m.acquire(ANTHROPIC, router('r2', 2));
    const culled = exitOf(m, busy.record.kernelId);
    await exitOf(m, idle.record.kernelId);
    expect(m.list().map((b) => [b.kernelId, b.state])).toEqual([[busy.record.kernelId, 'busy']]);
    // Its cell ends: the clock starts, and it is culled in turn.
    m.executionState(busy.record.kernelId, 'r1', 'idle');
    expect((await culled).event).toMatchObject({ reason: 'culled' });
  });
});
