import { describe, expect, it } from 'vitest';
import {
  backendFields,
  findTarget,
  healthReportsIn,
  healthTable,
  isHealthy,
  listTable,
  formatCpu,
  publicHealth,
  cleanupLines,
  publicCleanup,
  publicRecord,
  publicStopped,
  recordOf,
  recordsIn,
  stoppedLines,
  type ListedRecord,
} from '../../../src/cli/fleet-views.js';
import type { HealthReport } from '../../../src/fleet/manager/protocol.js';

const NOW = 1_700_000_100_000;

function rec(over: Partial<ListedRecord> = {}): ListedRecord {
  return {
    kernelId: 'lua-openai-1a2b3c4d',
    pid: 4242,
    requirement: { runtime: 'lua', provider: 'openai' },
    state: 'ready',
    interruptMode: 'signal',
    connectionFile: '/f/backends/lua-openai-1a2b3c4d.json',
    logFile: '/f/logs/lua-openai-1a2b3c4d.log',
    startedAt: NOW - 192_000,
    ports: [41001, 41002, 41003, 41004, 41005],
    ip: '127.0.0.1',
    attached: [
      { routerId: 'r1', pid: 1 },
      { routerId: 'r2', pid: 2 },
    ],
    ...over,
  };
}

describe('publicRecord', () => {
  it('derives uptime and clients and keeps only known fields', () => {
    const leaky = { ...rec(), connection: { key: 'SECRET-KEY' }, env: { OPENAI_API_KEY: 'sk-secret' } } as ListedRecord;
    const out = publicRecord(leaky, NOW, 2048);
    expect(out).toMatchObject({ kernelId: 'lua-openai-1a2b3c4d', uptimeMs: 192_000, clients: 2, rssBytes: 2048 });
    const text = JSON.stringify(out);
    expect(text).not.toContain('SECRET-KEY');
    expect(text).not.toContain('sk-secret');
    expect(Object.keys(out)).not.toContain('connection');
  });

  it("prefers the manager's rssBytes over the one read here", () => {
    expect(publicRecord(rec({ rssBytes: 10 }), NOW, 99).rssBytes).toBe(10);
    expect(publicRecord(rec(), NOW).rssBytes).toBeUndefined();
  });

  it('shows the counts of output kept for the next client, never its content', () => {
    const held = { subscribed: true, messages: 3, bytes: 120, dropped: 1, finished: true, entries: [{ text: 'secret output' }] };
    const out = publicRecord({ ...rec(), heldOutput: held } as ListedRecord, NOW);
    expect(out.heldOutput).toEqual({ subscribed: true, messages: 3, bytes: 120, dropped: 1, finished: true });
    expect(JSON.stringify(out)).not.toContain('secret output');
    expect(publicRecord(rec(), NOW).heldOutput).toBeUndefined();
  });
});

describe('limits and how a backend ended', () => {
  it('passes the limits, their mechanism and the last exit through, and the table says the reason', () => {
    const lastExit = { reason: 'memory-limit', cause: 'killed: memory limit 200 MB reached', exitCode: null, signal: 'SIGKILL' };
    const out = publicRecord(rec({ state: 'dead', limits: { memory_mb: 200 }, enforcedBy: 'cgroup-v1', lastExit }), NOW);
    expect(out).toMatchObject({ limits: { memory_mb: 200 }, enforcedBy: 'cgroup-v1', lastExit });
    expect(listTable([out]).rows[0]?.at(-1)).toBe('dead (memory-limit)');
    expect(listTable([publicRecord(rec(), NOW)]).rows[0]?.at(-1)).toBe('ready');
  });
});

describe('recordOf / recordsIn', () => {
  const r = rec();
  it.each([
    ['a record', r, [r]],
    ['a handle', { record: r, connection: { key: 'k' } }, [r]],
    ['an array of records', [r, r], [r, r]],
    ['an array of handles', [{ record: r }], [r]],
    ['an object holding records', { stopped: [r] }, [r]],
    ['an empty array', [], []],
    ['ids only', ['a', 'b'], []],
    ['nothing', undefined, []],
    ['a number', 3, []],
  ])('%s', (_name, input, expected) => {
    expect(recordsIn(input)).toEqual(expected);
  });

  it('recordOf rejects what is not a record', () => {
    expect(recordOf({ kernelId: 'x' })).toBeUndefined();
    expect(recordOf(null)).toBeUndefined();
  });
});

describe('listTable', () => {
  it('has the documented columns and formats each cell', () => {
    const { headers, rows } = listTable([publicRecord({ ...rec(), cpuPercent: 12.34 }, NOW, 50 * 1024 * 1024)]);
    expect(headers).toEqual(['ID', 'PID', 'RUNTIME', 'PROVIDER', 'PORTS', 'CLIENTS', 'UPTIME', 'CPU', 'MEMORY', 'STATE']);
    expect(rows).toEqual([['lua-openai-1a2b3c4d', '4242', 'lua', 'openai', '41001-41005', '2', '3m12s', '12%', '50 MiB', 'ready']]);
  });

  it('adds a GROUP column only when some backend has a group', () => {
    const grouped = publicRecord(rec({ requirement: { runtime: 'lua', provider: 'openai', group: 'team' } }), NOW);
    const plain = publicRecord(rec({ attached: [] }), NOW);
    const { headers, rows } = listTable([grouped, plain]);
    expect(headers[4]).toBe('GROUP');
    expect(rows.map((r) => r[4])).toEqual(['team', '-']);
    expect(rows[1]?.[6]).toBe('0');
    expect(rows[1]?.[8]).toBe('-');
    expect(rows[1]?.[9]).toBe('-');
  });
});

describe('pod backends in list', () => {
  const pod = (podStatus: ListedRecord['podStatus']) => publicRecord(rec({ kube: { namespace: 'ns', pod: 'llmspell-k', secret: 'llmspell-k-connection', fleet: 'f' }, ...(podStatus !== undefined ? { podStatus } : {}) }), NOW);
  it.each<[string, ListedRecord['podStatus'], string, string]>([
    ['running, no restarts', { phase: 'Running', restarts: 0, node: 'n1' }, 'ns/llmspell-k on n1', 'ready'],
    ['restarted', { phase: 'Running', restarts: 2, node: 'n1' }, 'ns/llmspell-k on n1', 'ready (2 restarts)'],
    ['one restart', { phase: 'Running', restarts: 1, node: 'n1' }, 'ns/llmspell-k on n1', 'ready (1 restart)'],
    ['not running', { phase: 'Pending', restarts: 0 }, 'ns/llmspell-k', 'ready (pod Pending)'],
    ['not watched (yet)', undefined, 'ns/llmspell-k', 'ready'],
  ])('%s', (_what, podStatus, where, state) => {
    const out = pod(podStatus);
    expect(out.podStatus).toEqual(podStatus);
    const row = listTable([out]).rows[0];
    expect([row?.[1], row?.at(-1), row?.at(-2), row?.at(-3)]).toEqual([where, state, '-', '-']);
  });
});

describe('formatCpu', () => {
  it.each([
    [undefined, '-'],
    [0, '0.0%'],
    [3.14159, '3.1%'],
    [10, '10%'],
    [250.4, '250%'],
  ])('%s → %s', (percent, text) => {
    expect(formatCpu(percent)).toBe(text);
  });
});

describe('health', () => {
  const h = (over: Partial<HealthReport>): HealthReport => ({ kernelId: 'k', pid: 1, processAlive: true, heartbeat: true, heartbeatMs: 2.5, ...over });
  it.each([
    [h({}), true, ['k', '1', 'alive', 'ok', '2.5ms', 'OK']],
    [h({ heartbeat: false, heartbeatMs: undefined }), false, ['k', '1', 'alive', 'no reply', '-', 'FAIL']],
    [h({ processAlive: false, heartbeat: false }), false, ['k', '1', 'dead', 'no reply', '-', 'FAIL']],
  ])('%j', (report, healthy, row) => {
    expect(isHealthy(report)).toBe(healthy);
    expect(healthTable([report]).rows[0]).toEqual(row);
    expect(publicHealth(report).healthy).toBe(healthy);
  });

  it('healthReportsIn takes an array or an object holding one', () => {
    expect(healthReportsIn([h({})])).toHaveLength(1);
    expect(healthReportsIn({ backends: [h({}), h({ kernelId: 'j' })] })).toHaveLength(2);
    expect(healthReportsIn({ nope: 1 })).toEqual([]);
  });
});

describe('findTarget', () => {
  const a = rec();
  const b = rec({ kernelId: 'python-openai-00', ports: [5, 6, 7, 8, 9] });
  it.each([
    [{ kind: 'id', id: 'python-openai-00' } as const, b],
    [{ kind: 'port', port: 41003 } as const, a],
    [{ kind: 'port', port: 9 } as const, b],
    [{ kind: 'port', port: 10 } as const, undefined],
    [{ kind: 'id', id: 'python' } as const, undefined],
  ])('%j', (target, expected) => {
    expect(findTarget([a, b], target)).toBe(expected);
  });
});

describe('stop and cleanup views', () => {
  it.each([
    [{ stopped: [rec()] }, 'stopped lua-openai-1a2b3c4d (pid 4242)\n'],
    [{ stopped: [] }, 'nothing to stop\n'],
    [null, 'nothing to stop\n'],
  ])('stoppedLines(%j)', (result, expected) => {
    expect(stoppedLines(result)).toBe(expected);
  });

  it('publicStopped keeps only public fields', () => {
    const leaky = { stopped: [{ ...rec(), connection: { key: 'SECRET' } }] };
    const out = publicStopped(leaky, NOW);
    expect(out.stopped.map((r) => r.kernelId)).toEqual(['lua-openai-1a2b3c4d']);
    expect(JSON.stringify(out)).not.toContain('SECRET');
  });

  it.each([
    [{ removed: [rec()], files: ['/f/backends/x.json'] }, 'forgot lua-openai-1a2b3c4d (pid 4242 is gone)\ndeleted /f/backends/x.json\n'],
    [{ removed: [], files: [] }, 'nothing to clean up\n'],
    [{ removed: [], files: [], containers: ['podman:llmspell-fleet-x'] }, 'removed container podman:llmspell-fleet-x\n'],
    [{}, 'nothing to clean up\n'],
  ])('cleanupLines(%j)', (result, expected) => {
    expect(cleanupLines(result)).toBe(expected);
  });

  it('publicCleanup', () => {
    expect(publicCleanup({ removed: [rec()], files: ['a', 3] }, NOW)).toMatchObject({ removed: [{ kernelId: 'lua-openai-1a2b3c4d' }], files: ['a'] });
    expect(publicCleanup({ removed: [], files: [], containers: ['podman:c', 7] }, NOW)).toEqual({ removed: [], files: [], containers: ['podman:c'] });
    expect(publicCleanup(undefined, NOW)).toEqual({ removed: [], files: [], containers: [] });
  });
});

describe('backendFields', () => {
  it('shows id, pid and connection file', () => {
    const text = backendFields(publicRecord(rec(), NOW));
    expect(text).toMatch(/^id +lua-openai-1a2b3c4d$/m);
    expect(text).toMatch(/^pid +4242$/m);
    expect(text).toMatch(/^connection file +\/f\/backends\/lua-openai-1a2b3c4d\.json$/m);
  });
});
