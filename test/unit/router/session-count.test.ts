/** SessionCounter: one count for the session, given in dispatch order, put into the backends' messages. */
import { describe, expect, it } from 'vitest';
import { SessionCounter, storesHistory, type ExecuteFlags } from '../../../src/router/session-count.js';
import { createMessage, WireMessage } from '../../../src/wire/codec.js';

/** A backend's message about request `parent`. */
const from = (msgType: string, parent: string, content: object): WireMessage =>
  createMessage({ msgType, content, session: 'backend', parentHeader: { msg_id: parent }, identities: [Buffer.from('client')] });

describe('storesHistory (the spec: store_history defaults to not silent; silent forces it false)', () => {
  it.each<[ExecuteFlags, boolean]>([
    [{}, true],
    [{ silent: false }, true],
    [{ silent: true }, false],
    [{ silent: true, store_history: true }, false],
    [{ store_history: false }, false],
    [{ silent: false, store_history: false }, false],
    [{ store_history: true }, true],
    [{ store_history: 'yes' }, true],
  ])('%j -> %s', (flags, expected) => {
    expect(storesHistory(flags)).toBe(expected);
  });
});

describe('SessionCounter.assign', () => {
  it.each<[string, ExecuteFlags[], number[]]>([
    ['cells in order', [{}, {}, {}], [1, 2, 3]],
    ['a silent cell reads the count as it stands', [{}, { silent: true }, {}], [1, 1, 2]],
    ['store_history=false before any cell reads 0', [{ store_history: false }, {}], [0, 1]],
    ['store_history=false between cells', [{}, {}, { store_history: false }, {}], [1, 2, 2, 3]],
  ])('%s', (_name, requests, expected) => {
    const counter = new SessionCounter();
    expect(requests.map((flags, i) => counter.assign(`r${i}`, flags))).toEqual(expected);
  });

  it('gives a request asked about twice the same count', () => {
    const counter = new SessionCounter();
    expect(counter.assign('a', {})).toBe(1);
    expect(counter.assign('a', {})).toBe(1);
    expect(counter.current).toBe(1);
  });

  it('records the code of the cells that store history, under their counts', () => {
    const counter = new SessionCounter();
    counter.assign('a', { code: 'x = 1' });
    counter.assign('b', { code: 'x', silent: true });
    counter.assign('c', { code: '%llmspell status' });
    expect(counter.history.entries).toEqual([{ line: 1, input: 'x = 1' }, { line: 2, input: '%llmspell status' }]);
  });
});

describe('SessionCounter.relay', () => {
  it.each<[string, string, object, object]>([
    ['execute_input', 'execute_input', { code: 'x', execution_count: 5 }, { code: 'x', execution_count: 2 }],
    ['execute_result', 'execute_result', { data: {}, metadata: {}, execution_count: 5 }, { data: {}, metadata: {}, execution_count: 2 }],
    ['execute_reply', 'execute_reply', { status: 'ok', execution_count: 5 }, { status: 'ok', execution_count: 2 }],
    ['an error with a count (some kernels add one)', 'error', { ename: 'E', evalue: '', traceback: [], execution_count: 5 }, { ename: 'E', evalue: '', traceback: [], execution_count: 2 }],
    ['an error without one is left as it is', 'error', { ename: 'E', evalue: '', traceback: [] }, { ename: 'E', evalue: '', traceback: [] }],
    ['an aborted reply without a count', 'execute_reply', { status: 'aborted' }, { status: 'aborted' }],
  ])('puts the session count into %s', (_name, msgType, content, expected) => {
    const counter = new SessionCounter();
    counter.assign('first', {});
    counter.assign('cell', {});
    expect(counter.relay(from(msgType, 'cell', content)).content()).toEqual(expected);
  });

  it.each(['stream', 'display_data', 'update_display_data', 'clear_output', 'comm_msg', 'complete_reply'])('passes %s through as the same object, content unread', (msgType) => {
    const counter = new SessionCounter();
    counter.assign('cell', {});
    const msg = createMessage({ msgType, content: {}, session: 'b', parentHeader: { msg_id: 'cell' } });
    // Content that is not JSON: reading it would throw.
    const raw = new WireMessage({ ...msg.parts, signed: [msg.parts.signed[0], msg.parts.signed[1], msg.parts.signed[2], Buffer.from('not json')] });
    expect(counter.relay(raw)).toBe(raw);
  });

  it.each([
    ['execute_reply', 'not json'],
    ['execute_input', 'null'],
    ['execute_result', '[1]'],
    ['status', 'not json'],
    ['status', 'null'],
  ])('passes a tracked %s whose content is %s through as the backend sent it, without throwing', (msgType, body) => {
    const counter = new SessionCounter();
    counter.assign('cell', {});
    const msg = createMessage({ msgType, content: {}, session: 'b', parentHeader: { msg_id: 'cell' } });
    const raw = new WireMessage({ ...msg.parts, signed: [msg.parts.signed[0], msg.parts.signed[1], msg.parts.signed[2], Buffer.from(body)] });
    expect(counter.relay(raw)).toBe(raw);
  });

  it("leaves messages about requests it does not know (another session's cells on a shared backend) as they are", () => {
    const counter = new SessionCounter();
    counter.assign('mine', {});
    const theirs = from('execute_input', 'theirs', { code: 'y', execution_count: 9 });
    expect(counter.relay(theirs)).toBe(theirs);
  });

  it('keeps the signed frames other than content, so only the signature is made again', () => {
    const counter = new SessionCounter();
    counter.assign('cell', {});
    const msg = from('execute_reply', 'cell', { status: 'ok', execution_count: 4 });
    const out = counter.relay(msg);
    expect(out.parts.signed.slice(0, 3)).toEqual(msg.parts.signed.slice(0, 3));
    expect(out.identities).toEqual(msg.identities);
    expect(out.msgId).toBe(msg.msgId);
  });

  it('forgets a request once its reply and its idle status have both passed, in either order', () => {
    const counter = new SessionCounter();
    counter.assign('a', {});
    counter.assign('b', {});
    counter.relay(from('execute_reply', 'a', { status: 'ok', execution_count: 1 }));
    expect(counter.tracked).toBe(2);
    counter.relay(from('status', 'a', { execution_state: 'idle' }));
    counter.relay(from('status', 'b', { execution_state: 'busy' }));
    counter.relay(from('status', 'b', { execution_state: 'idle' }));
    expect(counter.tracked).toBe(1);
    counter.relay(from('execute_reply', 'b', { status: 'ok', execution_count: 2 }));
    expect(counter.tracked).toBe(0);
  });

  it('10 000 cells answered leave nothing tracked; cells never answered stay bounded', () => {
    const counter = new SessionCounter({ maxTracked: 100 });
    for (let i = 0; i < 10_000; i++) {
      counter.assign(`c${i}`, {});
      counter.relay(from('execute_reply', `c${i}`, { status: 'ok', execution_count: 1 }));
      counter.relay(from('status', `c${i}`, { execution_state: 'idle' }));
    }
    expect(counter.tracked).toBe(0);
    expect(counter.current).toBe(10_000);
    for (let i = 0; i < 10_000; i++) counter.assign(`lost${i}`, {});
    expect(counter.tracked).toBe(100);
  });

  it('bounds the history of a long session, keeping the newest cells', () => {
    const counter = new SessionCounter({ maxHistory: 3 });
    for (let i = 1; i <= 5; i++) counter.assign(`c${i}`, { code: `cell ${i}` });
    expect(counter.history.entries.map((e) => e.line)).toEqual([3, 4, 5]);
  });
});
