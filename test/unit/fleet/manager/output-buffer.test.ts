import { describe, expect, it } from 'vitest';
import { replayLimits } from '../../../../src/fleet/manager/detached-output.js';
import { OutputBuffer, entryBytes, entryOf, type IopubSeen } from '../../../../src/fleet/manager/output-buffer.js';
import type { DetachedEntry } from '../../../../src/shared/detached-output.js';

const cell = { msg_id: 'req-1', msg_type: 'execute_request', date: '2026-12-01T14:02:11.000Z' };
const seen = (msgType: string, content: Record<string, unknown>, parentHeader: IopubSeen['parentHeader'] = cell): IopubSeen => ({ msgType, content, parentHeader, at: 1000 });
const stream = (text: string): DetachedEntry => ({ msgType: 'stream', at: 1, content: { name: 'stdout', text } });

describe('entryOf: what is kept of an iopub message', () => {
  it.each<[string, IopubSeen, DetachedEntry | undefined]>([
    ['stream, with its cell', seen('stream', { name: 'stdout', text: 'x' }), { msgType: 'stream', at: 1000, parent: { msgId: 'req-1', date: cell.date }, content: { name: 'stdout', text: 'x' } }],
    ['display_data', seen('display_data', { data: {} }), { msgType: 'display_data', at: 1000, parent: { msgId: 'req-1', date: cell.date }, content: { data: {} } }],
    ['update_display_data', seen('update_display_data', { data: {} }), { msgType: 'update_display_data', at: 1000, parent: { msgId: 'req-1', date: cell.date }, content: { data: {} } }],
    ['execute_result', seen('execute_result', { data: {} }), { msgType: 'execute_result', at: 1000, parent: { msgId: 'req-1', date: cell.date }, content: { data: {} } }],
    ['error', seen('error', { ename: 'E' }), { msgType: 'error', at: 1000, parent: { msgId: 'req-1', date: cell.date }, content: { ename: 'E' } }],
    ['execute_input (which cell it came from)', seen('execute_input', { code: 'x' }), { msgType: 'execute_input', at: 1000, parent: { msgId: 'req-1', date: cell.date }, content: { code: 'x' } }],
    ["a cell's final idle", seen('status', { execution_state: 'idle' }), { msgType: 'status', at: 1000, parent: { msgId: 'req-1', date: cell.date }, content: { execution_state: 'idle' } }],
    ['a parent without date', seen('stream', { text: 'x' }, { msg_id: 'r' }), { msgType: 'stream', at: 1000, parent: { msgId: 'r' }, content: { text: 'x' } }],
    ['no parent (output from a thread)', seen('stream', { text: 'x' }, {}), { msgType: 'stream', at: 1000, content: { text: 'x' } }],
    ['not busy', seen('status', { execution_state: 'busy' }), undefined],
    ['not the idle of another request', seen('status', { execution_state: 'idle' }, { msg_id: 'k', msg_type: 'kernel_info_request' }), undefined],
    ['not a comm', seen('comm_msg', { comm_id: 'c' }), undefined],
    ['not clear_output', seen('clear_output', { wait: false }), undefined],
    ['not iopub_welcome', seen('iopub_welcome', { subscription: '' }), undefined],
  ])('%s', (_name, input, expected) => {
    expect(entryOf(input)).toEqual(expected);
  });
});

describe('OutputBuffer: bounded by count and bytes, oldest dropped and counted', () => {
  const texts = (b: OutputBuffer) => b.output().entries.map((e) => e.content.text);
  const oneBytes = entryBytes(stream('a'));

  it.each<[string, { messages: number; bytes: number }, string[], string[], number]>([
    ['within bounds: all kept', { messages: 10, bytes: 10_000 }, ['a', 'b', 'c'], ['a', 'b', 'c'], 0],
    ['over the count: the oldest go', { messages: 2, bytes: 10_000 }, ['a', 'b', 'c', 'd'], ['c', 'd'], 2],
    ['over the bytes: the oldest go', { messages: 10, bytes: oneBytes * 2 }, ['a', 'b', 'c'], ['b', 'c'], 1],
    ['one message larger than the byte bound is dropped alone', { messages: 10, bytes: oneBytes * 2 }, ['a', 'x'.repeat(500), 'b'], ['a', 'b'], 1],
    ['zero messages keeps nothing', { messages: 0, bytes: 10_000 }, ['a', 'b'], [], 2],
  ])('%s', (_name, limits, added, kept, dropped) => {
    const buffer = new OutputBuffer('k', limits, 0);
    for (const text of added) buffer.add(stream(text));
    expect(texts(buffer)).toEqual(kept);
    expect(buffer.output().dropped).toBe(dropped);
    expect(buffer.summary().bytes).toBe(kept.length * oneBytes);
  });

  it('a message refused before decoding counts as dropped', () => {
    const buffer = new OutputBuffer('k', { messages: 10, bytes: 100 }, 0);
    buffer.countDropped();
    expect(buffer.summary()).toEqual({ subscribed: false, messages: 0, bytes: 0, dropped: 1, finished: false });
  });

  it.each<[string, DetachedEntry[], boolean]>([
    ['finished when the last kept message is the final idle', [stream('a'), { msgType: 'status', at: 2, content: { execution_state: 'idle' } }], true],
    ['still running while output is the last', [{ msgType: 'status', at: 2, content: { execution_state: 'idle' } }, stream('a')], false],
    ['nothing kept: not finished', [], false],
  ])('summary: %s', (_name, entries, finished) => {
    const buffer = new OutputBuffer('k', { messages: 10, bytes: 10_000 }, 0);
    for (const e of entries) buffer.add(e);
    expect(buffer.summary().finished).toBe(finished);
  });

  it('keeps the newest 16 running cells the last router named, apart from the bounded messages', () => {
    const buffer = new OutputBuffer('k', { messages: 0, bytes: 0 }, 0);
    for (let i = 0; i < 20; i++) buffer.noteCell({ msgId: `m${i}`, code: `cell ${i}` });
    buffer.noteCell({ msgId: 'm19', code: 'cell 19', date: 'd' });
    const cells = buffer.output().cells ?? [];
    expect(cells.map((c) => c.msgId)).toEqual(Array.from({ length: 16 }, (_, i) => `m${i + 4}`));
    expect(cells.at(-1)).toEqual({ msgId: 'm19', code: 'cell 19', date: 'd' });
  });

  it('hands out what it holds with the bounds and the time it began', () => {
    const buffer = new OutputBuffer('k1', { messages: 5, bytes: 999 }, 1234);
    buffer.add(stream('a'));
    expect(buffer.output()).toEqual({ kernelId: 'k1', since: 1234, entries: [stream('a')], dropped: 0, limits: { messages: 5, bytes: 999 } });
  });
});

describe('replayLimits: fleet.toml [replay] as bounds', () => {
  it.each<[string, Parameters<typeof replayLimits>[0], { messages: number; bytes: number }]>([
    ['defaults: 1000 messages, 1 MB', undefined, { messages: 1000, bytes: 1024 * 1024 }],
    ['configured', { max_messages: 50, max_mb: 0.5 }, { messages: 50, bytes: 512 * 1024 }],
  ])('%s', (_name, replay, expected) => {
    expect(replayLimits(replay)).toEqual(expected);
  });
});
