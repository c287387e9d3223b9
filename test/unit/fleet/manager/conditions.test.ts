import { describe, expect, it } from 'vitest';
import { BackendConditions, DEAD_SHOWN_MS } from '../../../../src/fleet/manager/conditions.js';
import type { BackendRecord } from '../../../../src/fleet/manager/protocol.js';

function record(kernelId: string, state: BackendRecord['state'], attached: string[] = [], runtime = 'python'): BackendRecord {
  return {
    kernelId,
    pid: 1000,
    requirement: { runtime, provider: 'openai' },
    state,
    interruptMode: 'signal',
    connectionFile: `/h/backends/${kernelId}.json`,
    logFile: `/h/logs/${kernelId}.log`,
    startedAt: 0,
    ports: [1, 2, 3, 4, 5],
    ip: '127.0.0.1',
    attached: attached.map((routerId) => ({ routerId, pid: 2 })),
  };
}

const states = (c: BackendConditions, live: BackendRecord[]) => c.list(live).map((r) => `${r.kernelId}:${r.state}`);

describe('BackendConditions', () => {
  it.each<[string, BackendRecord['state'], BackendRecord['spare'], string]>([
    ['a ready spare is a spare', 'ready', 'ready', 'spare'],
    ['a spare still running its startup code is starting', 'ready', 'warming', 'starting'],
    ['a spare being spawned is starting', 'starting', 'warming', 'starting'],
    ['a spare being stopped is stopping', 'stopping', 'ready', 'stopping'],
    ['a backend handed out of the pool is ready', 'ready', undefined, 'ready'],
  ])('%s', (_name, state, spare, shown) => {
    const r = { ...record('k', state), ...(spare === undefined ? {} : { spare }) };
    expect(states(new BackendConditions(), [r])).toEqual([`k:${shown}`]);
  });

  it('busy while any attached router last said busy; a router that left no longer counts', () => {
    const c = new BackendConditions();
    c.report('k', 'A', true);
    c.report('k', 'B', true);
    expect(states(c, [record('k', 'ready', ['A', 'B'])])).toEqual(['k:busy']);
    c.report('k', 'A', false);
    expect(states(c, [record('k', 'ready', ['A', 'B'])])).toEqual(['k:busy']);
    expect(states(c, [record('k', 'ready', ['A'])])).toEqual(['k:ready']);
    c.report('k', 'B', false);
    expect(states(c, [record('k', 'ready', ['A', 'B'])])).toEqual(['k:ready']);
  });

  it('a backend that died is listed dead, until one for its requirement starts (restarting), then ready', () => {
    const c = new BackendConditions();
    c.died(record('old', 'ready', ['A']));
    expect(states(c, [])).toEqual(['old:dead']);
    expect(c.replacesDead({ runtime: 'python', provider: 'openai' })).toBe(true);
    c.restarting('new', true);
    expect(states(c, [record('new', 'starting')])).toEqual(['new:restarting']);
    c.restarting('new', false);
    expect(states(c, [record('new', 'ready')])).toEqual(['new:ready']);
  });

  it('a dead one carries how it ended (its last exit), for list and the API', () => {
    const c = new BackendConditions();
    c.died(record('oom', 'ready'), { reason: 'memory-limit', cause: 'killed: memory limit 200 MB reached', exitCode: null, signal: 'SIGKILL' });
    c.died(record('plain', 'ready', [], 'lua'));
    const listed = c.list([]);
    expect(listed.find((b) => b.kernelId === 'oom')?.lastExit).toEqual({ reason: 'memory-limit', cause: 'killed: memory limit 200 MB reached', exitCode: null, signal: 'SIGKILL' });
    expect(listed.find((b) => b.kernelId === 'plain')).not.toHaveProperty('lastExit');
  });

  it('another requirement does not replace the dead one', () => {
    const c = new BackendConditions();
    c.died(record('old', 'ready', [], 'lua'));
    expect(c.replacesDead({ runtime: 'python', provider: 'openai' })).toBe(false);
    expect(states(c, [record('new', 'starting')])).toEqual(['new:starting', 'old:dead']);
  });

  it('the dead are shown for DEAD_SHOWN_MS, and cleanup takes them at once', () => {
    let now = 0;
    const c = new BackendConditions(() => now);
    c.died(record('a', 'ready'));
    now = DEAD_SHOWN_MS;
    expect(states(c, [])).toEqual(['a:dead']);
    now = DEAD_SHOWN_MS + 1;
    expect(states(c, [])).toEqual([]);
    c.died(record('b', 'ready'));
    expect(c.takeDead().map((r) => r.kernelId)).toEqual(['b']);
    expect(states(c, [])).toEqual([]);
  });

  it('a restart: the old one stopping and the new one starting both say restarting', () => {
    const c = new BackendConditions();
    c.restarting('old', true);
    c.restarting('new', true);
    expect(states(c, [record('old', 'stopping'), record('new', 'starting')])).toEqual(['old:restarting', 'new:restarting']);
    c.forget('old');
    expect(states(c, [record('old', 'stopping')])).toEqual(['old:stopping']);
  });
});
