import { describe, expect, it } from 'vitest';
import { encodeLine, LineReader } from '../../../../src/fleet/manager/lines.js';
import { parseRequest } from '../../../../src/fleet/manager/requests.js';

const req = { runtime: 'lua', provider: 'openai' };

describe('parseRequest', () => {
  it.each([
    ['ping', { id: 1, op: 'ping' }, { id: 1, op: 'ping' }],
    ['acquire', { id: 2, op: 'acquire', requirement: req, routerId: 'r', pid: 10 }, { id: 2, op: 'acquire', requirement: req, routerId: 'r', pid: 10 }],
    ['acquire with group', { id: 2, op: 'acquire', requirement: { ...req, group: 'team-a' }, routerId: 'r', pid: 10 }, { id: 2, op: 'acquire', requirement: { ...req, group: 'team-a' }, routerId: 'r', pid: 10 }],
    ['find drops unknown fields', { id: 3, op: 'find', requirement: { ...req, extra: 1 }, junk: true }, { id: 3, op: 'find', requirement: req }],
    ['attach', { id: 4, op: 'attach', kernelId: 'lua-openai-1', routerId: 'r', pid: 5 }, { id: 4, op: 'attach', kernelId: 'lua-openai-1', routerId: 'r', pid: 5 }],
    ['release', { id: 5, op: 'release', kernelId: 'k', routerId: 'r' }, { id: 5, op: 'release', kernelId: 'k', routerId: 'r' }],
    ['release naming running cells', { id: 5, op: 'release', kernelId: 'k', routerId: 'r', cells: [{ msgId: 'm', code: 'x', date: 'd', junk: 1 }] }, { id: 5, op: 'release', kernelId: 'k', routerId: 'r', cells: [{ msgId: 'm', code: 'x', date: 'd' }] }],
    ['take-output', { id: 5, op: 'take-output', kernelId: 'k', routerId: 'r', extra: 1 }, { id: 5, op: 'take-output', kernelId: 'k', routerId: 'r' }],
    ['execution-state', { id: 5, op: 'execution-state', kernelId: 'k', routerId: 'r', executionState: 'busy' }, { id: 5, op: 'execution-state', kernelId: 'k', routerId: 'r', executionState: 'busy' }],
    ['relay-counts', { id: 5, op: 'relay-counts', kernelId: 'k', routerId: 'r', relayed: [{ channel: 'iopub', direction: 'to_client', messages: 3, bytes: 9 }], dropped: { BAD_SIGNATURE: 1 }, executions: { ok: 1 }, durations: { buckets: Array(17).fill(0), sumSeconds: 0.5 } }, { id: 5, op: 'relay-counts', kernelId: 'k', routerId: 'r', relayed: [{ channel: 'iopub', direction: 'to_client', messages: 3, bytes: 9 }], dropped: { BAD_SIGNATURE: 1 }, executions: { ok: 1 }, durations: { buckets: Array(17).fill(0), sumSeconds: 0.5 } }],
    ['relay-counts with nothing but drops', { id: 5, op: 'relay-counts', kernelId: 'k', routerId: 'r', dropped: { TOO_LARGE: 2 } }, { id: 5, op: 'relay-counts', kernelId: 'k', routerId: 'r', dropped: { TOO_LARGE: 2 } }],
    ['stop by port', { id: 6, op: 'stop', target: '5001' }, { id: 6, op: 'stop', target: '5001' }],
    ['stop-all', { id: 7, op: 'stop-all' }, { id: 7, op: 'stop-all' }],
    ['interrupt', { id: 7, op: 'interrupt', target: 'python-none-1', extra: 1 }, { id: 7, op: 'interrupt', target: 'python-none-1' }],
    ['acquire with a cwd', { id: 8, op: 'acquire', requirement: req, routerId: 'r', pid: 1, cwd: '/nb' }, { id: 8, op: 'acquire', requirement: req, routerId: 'r', pid: 1, cwd: '/nb' }],
    ['acquire with provider keys', { id: 9, op: 'acquire', requirement: req, routerId: 'r', pid: 1, keys: { OPENAI_API_KEY: 'sk-x' } }, { id: 9, op: 'acquire', requirement: req, routerId: 'r', pid: 1, keys: { OPENAI_API_KEY: 'sk-x' } }],
    ['spawn with a cwd', { id: 9, op: 'spawn', requirement: req, cwd: '/nb' }, { id: 9, op: 'spawn', requirement: req, cwd: '/nb' }],
    ['get', { id: 10, op: 'get', kernelId: 'k' }, { id: 10, op: 'get', kernelId: 'k' }],
    ['logs with a tail', { id: 11, op: 'logs', kernelId: 'k', tail: 5 }, { id: 11, op: 'logs', kernelId: 'k', tail: 5 }],
    ['logs without a tail', { id: 11, op: 'logs', kernelId: 'k' }, { id: 11, op: 'logs', kernelId: 'k' }],
    ['usage', { id: 12, op: 'usage', kernelId: 'k', extra: true }, { id: 12, op: 'usage', kernelId: 'k' }],
  ])('accepts %s', (_name, input, expected) => {
    expect(parseRequest(JSON.stringify(input))).toEqual({ ok: true, request: expected });
  });

  it.each([
    ['not JSON', '{', -1, 'not valid JSON'],
    ['an array', '[1]', -1, 'JSON object'],
    ['no id', '{"op":"ping"}', -1, 'integer "id"'],
    ['unknown op', '{"id":1,"op":"format-disk"}', 1, 'unknown op'],
    ['acquire without requirement', '{"id":2,"op":"acquire","routerId":"r","pid":1}', 2, 'requirement'],
    ['requirement with a path in a name', JSON.stringify({ id: 3, op: 'find', requirement: { runtime: '../x', provider: 'p' } }), 3, 'requirement'],
    ['acquire without pid', JSON.stringify({ id: 4, op: 'acquire', requirement: req, routerId: 'r' }), 4, 'pid'],
    ['attach with pid 0', JSON.stringify({ id: 5, op: 'attach', kernelId: 'k', routerId: 'r', pid: 0 }), 5, 'pid'],
    ['stop without target', '{"id":6,"op":"stop"}', 6, 'target'],
    ['interrupt without target', '{"id":6,"op":"interrupt"}', 6, 'target'],
    ['interrupt with an empty target', '{"id":6,"op":"interrupt","target":""}', 6, 'target'],
    ['release with 17 running cells', JSON.stringify({ id: 6, op: 'release', kernelId: 'k', routerId: 'r', cells: Array.from({ length: 17 }, (_, i) => ({ msgId: `m${i}`, code: '' })) }), 6, 'cells must be at most 16 running cells'],
    ['release with a running cell of 1001 characters', JSON.stringify({ id: 6, op: 'release', kernelId: 'k', routerId: 'r', cells: [{ msgId: 'm', code: 'x'.repeat(1001) }] }), 6, 'cells'],
    ['take-output without routerId', '{"id":6,"op":"take-output","kernelId":"k"}', 6, 'routerId'],
    ['a relative cwd', JSON.stringify({ id: 7, op: 'find', requirement: req, cwd: 'nb' }), 7, 'absolute path'],
    ['get with a path as id', JSON.stringify({ id: 8, op: 'get', kernelId: '../k' }), 8, 'kernelId must be a backend id'],
    ['usage without kernelId', '{"id":8,"op":"usage"}', 8, 'kernelId is missing'],
    ['usage with a number as id', '{"id":8,"op":"usage","kernelId":5}', 8, 'kernelId must be a backend id'],
    ['logs with a negative tail', JSON.stringify({ id: 8, op: 'logs', kernelId: 'k', tail: -1 }), 8, 'tail must be a whole number'],
    ['logs with a tail over the limit', JSON.stringify({ id: 8, op: 'logs', kernelId: 'k', tail: 10_001 }), 8, 'tail must be a whole number of lines from 0 to 10000'],
    ['an id that is not whole', '{"id":1.5,"op":"ping"}', -1, 'integer "id"'],
    ['no op', '{"id":1}', 1, 'unknown op undefined'],
  ])('refuses %s', (_name, line, id, message) => {
    const parsed = parseRequest(line);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.id).toBe(id);
      expect(parsed.message).toContain(message);
    }
  });
});

describe('parseRequest: messages name the op, the field, the value and what it must be', () => {
  it.each([
    ['a missing requirement', { id: 2, op: 'acquire', routerId: 'r', pid: 1 }, 'op "acquire": requirement is missing: it must be {runtime, provider, group?} with names of letters, digits, _ . -'],
    ['a requirement that is not an object', { id: 3, op: 'find', requirement: 'lua' }, 'op "find": requirement must be {runtime, provider, group?} with names of letters, digits, _ . - (got "lua")'],
    ['a name with a path in it', { id: 3, op: 'find', requirement: { runtime: '../x', provider: 'p' } }, 'op "find": requirement.runtime must be a name of letters, digits, _ . - (got "../x")'],
    ['a requirement without provider', { id: 3, op: 'spawn', requirement: { runtime: 'lua' } }, 'op "spawn": requirement.provider is missing: it must be a name of letters, digits, _ . -'],
    ['pid 0', { id: 5, op: 'attach', kernelId: 'k', routerId: 'r', pid: 0 }, 'op "attach": pid must be a positive integer (got 0)'],
    ['a bad kernelId', { id: 5, op: 'restart', kernelId: '/etc', routerId: 'r' }, 'op "restart": kernelId must be a backend id (letters, digits, _ . -) (got "/etc")'],
    ['no target', { id: 6, op: 'stop' }, 'op "stop": target is missing: it must be a backend id or one of its ports'],
    ['interrupt, no target', { id: 6, op: 'interrupt' }, 'op "interrupt": target is missing: it must be a backend id or one of its ports'],
    ['a key variable that is not a provider key (no other env may pass)', { id: 7, op: 'find', requirement: { runtime: 'lua', provider: 'p' }, keys: { LD_PRELOAD: '/x.so' } }, 'op "find": keys.LD_PRELOAD is not a provider key variable'],
    ['an execution state that is not busy or idle', { id: 8, op: 'execution-state', kernelId: 'k', routerId: 'r', executionState: 'starting' }, 'op "execution-state": executionState must be "busy" or "idle" (got "starting")'],
    ['relay counts on hb (never relayed)', { id: 8, op: 'relay-counts', kernelId: 'k', routerId: 'r', relayed: [{ channel: 'hb', direction: 'to_client', messages: 1, bytes: 1 }] }, 'op "relay-counts": relayed[0].channel must be shell, control, stdin, iopub (hb is never relayed) (got "hb")'],
    ['a negative count', { id: 8, op: 'relay-counts', kernelId: 'k', routerId: 'r', executions: { ok: -1 } }, 'op "relay-counts": executions.ok must be a whole number from 0 (got -1)'],
    ['a drop reason that could mint label values', { id: 8, op: 'relay-counts', kernelId: 'k', routerId: 'r', dropped: { 'x{y}': 1 } }, 'op "relay-counts": dropped.x{y} must be at most 32 reasons (codes of A-Z, 0-9 and _) with counts (got "x{y}")'],
    ['durations with the wrong number of buckets', { id: 8, op: 'relay-counts', kernelId: 'k', routerId: 'r', durations: { buckets: [1], sumSeconds: 1 } }, 'op "relay-counts": durations.buckets must be {buckets: 17 counts, sumSeconds} (got an array)'],
    ['a routerId over 256 characters', { id: 8, op: 'release', kernelId: 'k', routerId: 'x'.repeat(300) }, `op "release": routerId must be a string of 1-256 characters (got "${'x'.repeat(60)}"... (300 characters))`],
  ])('%s', (_name, request, message) => {
    const parsed = parseRequest(JSON.stringify(request));
    expect(parsed).toEqual({ ok: false, id: request.id, message, field: expect.any(String) });
    // The field (for the HTTP API's error.field) is the key path the message names.
    expect(message).toContain(`: ${(parsed as { field: string }).field} `);
  });
});

describe('LineReader', () => {
  it.each([
    ['one line', ['{"a":1}\n'], ['{"a":1}']],
    ['two lines in one chunk', ['a\nb\n'], ['a', 'b']],
    ['a line split over chunks', ['{"a"', ':1', '}\nx', '\n'], ['{"a":1}', 'x']],
    ['blank lines skipped', ['\n\n a \n'], ['a']],
    ['no newline yet', ['abc'], []],
  ])('%s', (_name, chunks, lines) => {
    const got: string[] = [];
    const reader = new LineReader((l) => got.push(l));
    for (const c of chunks) expect(reader.push(Buffer.from(c))).toBe(true);
    expect(got).toEqual(lines);
  });

  it('refuses a line over the limit, whether it comes in one chunk or many', () => {
    const got: string[] = [];
    expect(new LineReader((l) => got.push(l), 8).push(Buffer.from('123456789\n'))).toBe(false);
    const reader = new LineReader((l) => got.push(l), 8);
    expect(reader.push(Buffer.from('12345'))).toBe(true);
    expect(reader.push(Buffer.from('6789'))).toBe(false);
    expect(got).toEqual([]);
  });

  it('encodeLine ends with exactly one newline', () => {
    expect(encodeLine({ id: 1, op: 'ping' })).toBe('{"id":1,"op":"ping"}\n');
  });
});
