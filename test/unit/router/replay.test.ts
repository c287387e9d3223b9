import { describe, expect, it } from 'vitest';
import { codeLabel, formatReplay, replayHeading, runningCells } from '../../../src/router/replay.js';
import { createMessage, WireMessage } from '../../../src/wire/codec.js';
import type { DetachedEntry, DetachedOutput } from '../../../src/shared/detached-output.js';

const UTC = { timeZone: 'UTC' };
const T = Date.parse('2026-12-01T14:02:11Z');
const parent = { msgId: 'req-1', date: '2026-12-01T14:02:11.000Z' };
const out = (entries: DetachedEntry[], dropped = 0): DetachedOutput => ({ kernelId: 'k', since: T, entries, dropped, limits: { messages: 1000, bytes: 1024 * 1024 } });
const stream = (text: string, p: DetachedEntry['parent'] = parent, name = 'stdout'): DetachedEntry => ({ msgType: 'stream', at: T + 1000, parent: p, content: { name, text } });
const idle = (at: number, p: DetachedEntry['parent'] = parent): DetachedEntry => ({ msgType: 'status', at, parent: p, content: { execution_state: 'idle' } });

describe('replayHeading and codeLabel', () => {
  it.each<[string, number | undefined, string | undefined, string]>([
    ['time and code', T, 'for i in range(3):\n    print(i)', '── output while no client was attached (cell started 14:02:11: `for i in range(3): …`) ──\n'],
    ['time only: the cell started before the manager listened', T, undefined, '── output while no client was attached (cell started 14:02:11) ──\n'],
    ['neither', undefined, undefined, '── output while no client was attached (a cell) ──\n'],
  ])('%s', (_name, started, code, expected) => {
    expect(replayHeading(started, code, 'UTC')).toBe(expected);
  });

  it.each<[string, string]>([
    ['x = 1', 'x = 1'],
    ['  x = 1\n', 'x = 1'],
    ['x = 1\ny = 2', 'x = 1 …'],
    ['a'.repeat(60), `${'a'.repeat(39)}…`],
  ])('codeLabel(%j) = %j', (code, label) => {
    expect(codeLabel(code)).toBe(label);
  });
});

describe('formatReplay', () => {
  it.each<[string, DetachedOutput, string]>([
    ['nothing kept: nothing shown', out([]), ''],
    [
      'a cell that started before, printed and finished while detached',
      out([stream('after 0\n'), stream('after 1\n', parent, 'stderr'), idle(T + 5000)]),
      '── output while no client was attached (cell started 14:02:11) ──\nafter 0\nafter 1\n── cell finished 14:02:16 ──\n',
    ],
    [
      'a cell still running, output without a final newline',
      out([stream('partial')]),
      '── output while no client was attached (cell started 14:02:11) ──\npartial\n── (still running when this client attached) ──\n',
    ],
    [
      'a cell that started while detached is named by its code',
      out([{ msgType: 'execute_input', at: T + 60_000, parent: { msgId: 'req-2' }, content: { code: 'print("queued")', execution_count: 3 } }, stream('queued\n', { msgId: 'req-2' }), idle(T + 61_000, { msgId: 'req-2' })]),
      '── output while no client was attached (cell started 14:03:11: `print("queued")`) ──\nqueued\n── cell finished 14:03:12 ──\n',
    ],
    [
      'a cell that was running when the last client left is named by what its router reported',
      { ...out([stream('after 0\n'), idle(T + 5000)]), cells: [{ msgId: 'req-1', code: 'for i in range(3):\n    print(i)', date: parent.date }] },
      '── output while no client was attached (cell started 14:02:11: `for i in range(3): …`) ──\nafter 0\n── cell finished 14:02:16 ──\n',
    ],
    [
      'rich output by its text/plain, errors by their traceback, other kinds named',
      out([
        { msgType: 'execute_result', at: T, parent, content: { data: { 'text/plain': '42', 'text/html': '<b>42</b>' }, execution_count: 1 } },
        { msgType: 'display_data', at: T, parent, content: { data: { 'image/png': 'AAA' } } },
        { msgType: 'error', at: T, parent, content: { ename: 'ValueError', evalue: 'bad', traceback: ['Traceback', 'ValueError: bad'] } },
        { msgType: 'error', at: T, parent, content: { ename: 'E', evalue: 'no trace' } },
      ]),
      '── output while no client was attached (cell started 14:02:11) ──\n42\n[image/png output, not shown here]\nTraceback\nValueError: bad\nE: no trace\n── (still running when this client attached) ──\n',
    ],
    [
      'dropped messages are said first, with the bounds',
      out([stream('last\n'), idle(T + 5000)], 7),
      '── 7 earlier messages were dropped (the fleet keeps 1000 messages / 1.0 MB per backend: fleet.toml [replay]) ──\n' +
        '── output while no client was attached (cell started 14:02:11) ──\nlast\n── cell finished 14:02:16 ──\n',
    ],
    [
      'two cells, one section each',
      out([stream('a\n'), idle(T + 1000), stream('b\n', { msgId: 'req-3', date: '2026-12-01T14:05:00Z' }), idle(T + 200_000, { msgId: 'req-3' })]),
      '── output while no client was attached (cell started 14:02:11) ──\na\n── cell finished 14:02:12 ──\n' +
        '── output while no client was attached (cell started 14:05:00) ──\nb\n── cell finished 14:05:31 ──\n',
    ],
  ])('%s', (_name, output, expected) => {
    expect(formatReplay(output, UTC)).toBe(expected);
  });
});

describe('runningCells: what a leaving router reports of its cells still running', () => {
  const request = (msgType: string, content: object) => createMessage({ msgType, content, session: 's' });
  it('names each execute_request by id, code (cut to 1000 characters) and date; other requests are not cells', () => {
    const a = request('execute_request', { code: 'x = 1' });
    const b = request('execute_request', { code: 'y'.repeat(1500) });
    const other = request('complete_request', { code: 'x', cursor_pos: 1 });
    expect(runningCells([a, other, b])).toEqual([
      { msgId: a.msgId, code: 'x = 1', date: a.header.date },
      { msgId: b.msgId, code: 'y'.repeat(1000), date: b.header.date },
    ]);
  });

  it('skips a request whose content is not JSON', () => {
    const good = request('execute_request', { code: 'x' });
    const [h, p, m] = good.parts.signed;
    const broken = new WireMessage({ ...good.parts, signed: [h, p, m, Buffer.from('{not json')] });
    expect(runningCells([broken])).toEqual([]);
  });
});
