import { describe, expect, it } from 'vitest';
import { fleetEvents, sseComment, sseEvent } from '../../../../../src/fleet/manager/http/events.js';
import type { FleetExit } from '../../../../../src/fleet/manager/fleet-options.js';
import type { ListedBackend } from '../../../../../src/fleet/manager/protocol.js';

const T = 1_700_000_000_000;

function b(kernelId: string, state: ListedBackend['state'], routers: string[] = []): ListedBackend {
  return {
    kernelId,
    pid: 100,
    requirement: { runtime: 'lua', provider: 'openai' },
    state,
    startedAt: T,
    ports: [1, 2, 3, 4, 5],
    attached: routers.map((routerId) => ({ routerId, pid: 200 })),
  } as unknown as ListedBackend;
}

/** The events as `type[:detail]` strings, enough to read a table. */
function said(before: ListedBackend[], after: ListedBackend[], exits: FleetExit[] = []): string[] {
  const events = fleetEvents(before, after, new Map(exits.map((e) => [e.kernelId, e])), T);
  for (const e of events) expect(e).toMatchObject({ runtime: 'lua', provider: 'openai', time: T });
  return events.map((e) => [e.type, e.kernelId, e.routerId ?? e.reason].filter((x) => x !== undefined).join(':'));
}

describe('fleetEvents', () => {
  it.each<[string, ListedBackend[], ListedBackend[], FleetExit[], string[]]>([
    ['nothing changed', [b('k', 'ready')], [b('k', 'ready')], [], []],
    ['a backend starting', [], [b('k', 'starting')], [], ['spawned:k']],
    ['starting → ready', [b('k', 'starting')], [b('k', 'ready')], [], ['ready:k']],
    ['seen first when ready', [], [b('k', 'ready')], [], ['spawned:k', 'ready:k']],
    ['a router attaches', [b('k', 'ready')], [b('k', 'ready', ['r1'])], [], ['attached:k:r1']],
    ['one router leaves, one comes', [b('k', 'ready', ['r1'])], [b('k', 'ready', ['r2'])], [], ['attached:k:r2', 'detached:k:r1']],
    ['ready → busy', [b('k', 'ready')], [b('k', 'busy')], [], ['busy:k']],
    ['busy → ready', [b('k', 'busy')], [b('k', 'ready')], [], ['idle:k']],
    ['starting → busy', [b('k', 'starting')], [b('k', 'busy')], [], ['ready:k', 'busy:k']],
    ['a restart begins', [b('k', 'ready')], [b('k', 'restarting')], [], ['restarting:k']],
    ['the replacement is ready', [b('n', 'restarting')], [b('n', 'ready')], [], ['restarted:n']],
    ['stopped by the fleet', [b('k', 'stopping')], [], [{ kernelId: 'k', reason: 'stopped', exitCode: null, signal: 'SIGTERM' }], ['stopped:k:stopped']],
    ['stopped after its linger', [b('k', 'ready')], [], [{ kernelId: 'k', reason: 'linger' }], ['stopped:k:linger']],
    ['culled (idle_cull_seconds)', [b('k', 'ready')], [], [{ kernelId: 'k', reason: 'culled' }], ['stopped:k:culled']],
    ['died with its router attached', [b('k', 'ready', ['r1'])], [], [{ kernelId: 'k', reason: 'exited', exitCode: 3 }], ['detached:k:r1', 'exited:k:exited']],
    ['died, listed dead', [b('k', 'ready')], [b('k', 'dead')], [{ kernelId: 'k', reason: 'signalled', signal: 'SIGKILL' }], ['exited:k:signalled']],
    ['listed dead after its exit was told', [], [b('k', 'dead')], [], []],
    ['a dead one forgotten by cleanup', [b('k', 'dead')], [], [], []],
    ['gone with no exit known (forgotten)', [b('k', 'ready')], [], [], []],
  ])('%s', (_what, before, after, exits, expected) => {
    expect(said(before, after, exits)).toEqual(expected);
  });

  it('carries the exit code and signal of an exit, and the group when there is one', () => {
    const grouped = { ...b('k', 'ready'), requirement: { runtime: 'lua', provider: 'openai', group: 'g' } } as ListedBackend;
    const [e] = fleetEvents([grouped], [], new Map([['k', { kernelId: 'k', reason: 'exited', exitCode: 3, signal: null }]]), T);
    expect(e).toEqual({ type: 'exited', kernelId: 'k', runtime: 'lua', provider: 'openai', group: 'g', time: T, reason: 'exited', exitCode: 3, signal: null });
  });

  it('carries the words of the limit that ended it', () => {
    const exit = { kernelId: 'k', reason: 'memory-limit', cause: 'killed: memory limit 200 MB reached', exitCode: null, signal: 'SIGKILL' };
    const [e] = fleetEvents([b('k', 'busy')], [], new Map([['k', exit]]), T);
    expect(e).toMatchObject({ type: 'exited', reason: 'memory-limit', cause: 'killed: memory limit 200 MB reached', signal: 'SIGKILL' });
  });
});

describe('server-sent event text', () => {
  it.each([
    ['ready', { kernelId: 'k' }, 'event: ready\ndata: {"kernelId":"k"}\n\n'],
    ['exited', { reason: 'line\nbreak' }, 'event: exited\ndata: {"reason":"line\\nbreak"}\n\n'],
    ['bad\r\ntype', 1, 'event: bad type\ndata: 1\n\n'],
  ])('event %j with %j', (type, data, text) => {
    expect(sseEvent(type, data)).toBe(text);
  });

  it.each([
    ['keepalive', ': keepalive\n\n'],
    ['two\nlines', ': two lines\n\n'],
  ])('comment %j', (text, out) => {
    expect(sseComment(text)).toBe(out);
  });
});
