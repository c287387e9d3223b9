/**
 * The pool inside the manager, with the llmspell stand-in as spares (startup code runs against
 * ipykernel in test/e2e/pool.test.ts): a request with a group takes a spare, the replacement
 * starts once its first cell is done, max_backends makes a spare give way to a user's backend,
 * and stop-all keeps the pool empty until the next request.
 */
import { describe, expect, it } from 'vitest';
import { FleetManager } from '../../../../src/fleet/manager/fleet.js';
import type { ListedBackend } from '../../../../src/fleet/manager/protocol.js';
import type { FleetConfig } from '../../../../src/fleet/types.js';
import { useTempFleet } from './standin-fleet.js';

const OPENAI = { runtime: 'standin', provider: 'openai' };
const ANTHROPIC = { runtime: 'standin', provider: 'anthropic' };

const temp = useTempFleet();

function manager(config: (c: FleetConfig) => void): FleetManager {
  const m = new FleetManager({
    home: temp.fleet.home,
    loadConfig: async () => {
      const c = temp.fleet.config();
      config(c);
      return c;
    },
  });
  temp.managers.push(m);
  return m;
}

/** Resolves once `m.list()` satisfies `check`, read at each change of the fleet. */
function listUntil(m: FleetManager, check: (l: ListedBackend[]) => boolean, what: string, ms = 30_000): Promise<ListedBackend[]> {
  return new Promise((resolve, reject) => {
    const look = () => {
      const now = m.list();
      if (!check(now)) return false;
      clearTimeout(timer);
      off();
      resolve(now);
      return true;
    };
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(m.list().map((b) => [b.kernelId, b.state]))}`));
    }, ms);
    const off = m.observe(() => void look());
    look();
  });
}

const spares = (l: ListedBackend[]) => l.filter((b) => b.state === 'spare');

describe('the pool in the manager', () => {
  it('a request with a group takes the oldest spare, which joins the group; the replacement starts when its first cell is done', async () => {
    const m = manager((c) => (c.pool = { 'standin/openai': { count: 2 } }));
    await m.start();
    const before = spares(await listUntil(m, (l) => spares(l).length === 2, 'two spares'));
    const oldest = [...before].sort((a, b) => a.startedAt - b.startedAt)[0]!;
    expect(m.holds().backends).toBe(0);

    const handle = await m.acquire({ ...OPENAI, group: 'g' }, { routerId: 'r1', pid: process.pid });
    expect(handle.record.kernelId).toBe(oldest.kernelId);
    expect(handle.record.requirement).toEqual({ ...OPENAI, group: 'g' });
    expect(handle.record.spare).toBeUndefined();
    expect(m.holds().backends).toBe(1);
    // Its first cell is not done yet: no replacement.
    expect(m.list()).toHaveLength(2);
    m.executionState(oldest.kernelId, 'r1', 'idle');
    await listUntil(m, (l) => spares(l).length === 2 && l.length === 3, 'the replacement spare');
  }, 60_000);

  it('under max_backends a spare gives way to a user backend, and the pool fills only the places left', async () => {
    const m = manager((c) => {
      c.pool = { 'standin/openai': { count: 2 } };
      c.max_backends = 2;
    });
    await m.start();
    const before = spares(await listUntil(m, (l) => spares(l).length === 2, 'two spares'));
    const newest = [...before].sort((a, b) => b.startedAt - a.startedAt)[0]!;
    // Attached: with linger 0 a backend nobody uses would stop at once.
    const found = await m.acquire(ANTHROPIC, { routerId: 'r1', pid: process.pid });
    const after = m.list();
    expect(after.map((b) => b.kernelId).sort()).toEqual([found.record.kernelId, before.find((b) => b !== newest)!.kernelId].sort());
    expect(spares(after)).toHaveLength(1);
  }, 60_000);

  it('stop-all stops the spares, and the pool stays empty until the next request', async () => {
    const m = manager((c) => (c.pool = { 'standin/openai': { count: 1 } }));
    await m.start();
    const [spare] = spares(await listUntil(m, (l) => spares(l).length === 1, 'the spare'));
    const { stopped } = await m.stopAll();
    expect(stopped.map((s) => s.kernelId)).toEqual([spare!.kernelId]);
    expect(m.list()).toEqual([]);
    // find takes no spare (there is none) but resumes the pool: the next spare comes beside its backend.
    await m.find(ANTHROPIC);
    await listUntil(m, (l) => spares(l).length === 1, 'a new spare after the next request');
  }, 60_000);
});
