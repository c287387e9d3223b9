/** RouterReplies against a recording sink: what a client sees when the router answers itself. */
import { describe, expect, it } from 'vitest';
import type { RequestChannel } from '../../../src/router/backend-link.js';
import { RouterReplies, type ReplySink } from '../../../src/router/own-replies.js';
import { silentLogger } from '../../../src/shared/log.js';
import { createMessage, type WireMessage } from '../../../src/wire/codec.js';

type Out =
  | { kind: 'reply'; channel: RequestChannel; msgType: string; content: Record<string, unknown> }
  | { kind: 'send'; channel: RequestChannel; msgType: string; content: Record<string, unknown>; parent?: string; ids: string[] }
  | { kind: 'iopub'; msgType: string; content: Record<string, unknown>; parent?: string };

function recorder(): { sink: ReplySink; out: Out[] } {
  const out: Out[] = [];
  return {
    out,
    sink: {
      reply: (channel, _request, msgType, content) => out.push({ kind: 'reply', channel, msgType, content: content as Record<string, unknown> }),
      send: (channel, msg) => out.push({ kind: 'send', channel, msgType: msg.msgType, content: msg.content(), parent: msg.parentHeader.msg_id, ids: msg.identities.map(String) }),
      broadcast: (msgType, content, parent) => out.push({ kind: 'iopub', msgType, content: content as Record<string, unknown>, parent: (parent as { msg_id?: string } | undefined)?.msg_id }),
    },
  };
}

function replies(maxMessageBytes = 1024 * 1024) {
  const r = recorder();
  return { ...r, replies: new RouterReplies({ sink: r.sink, session: 'router', maxMessageBytes, logger: silentLogger() }) };
}

const request = (msgType: string): WireMessage => createMessage({ msgType, content: {}, session: 'c', identities: [Buffer.from('client')] });
const kinds = (out: Out[]) => out.map((o) => (o.kind === 'iopub' && o.msgType === 'status' ? `status:${String(o.content.execution_state)}` : `${o.kind}:${o.msgType}`));

describe('RouterReplies.failed', () => {
  it('answers an execute_request with busy, the reason on stderr, an error on iopub, an error reply with a count, idle', () => {
    const { replies: r, out } = replies();
    const req = request('execute_request');
    r.failed('shell', req, 'no backend');
    expect(kinds(out)).toEqual(['status:busy', 'iopub:stream', 'iopub:error', 'reply:execute_reply', 'status:idle']);
    expect(out[1]).toMatchObject({ content: { name: 'stderr', text: 'llmspell-fleet: no backend\n' } });
    expect(out.filter((o) => o.kind === 'iopub' && o.msgType !== 'stream').every((o) => o.kind === 'iopub' && o.parent === req.msgId)).toBe(true);
    expect(out[3]).toMatchObject({ channel: 'shell', content: { status: 'error', ename: 'FleetError', evalue: 'no backend', execution_count: 1 } });
  });

  it('counts the cells it answers itself', () => {
    const { replies: r, out } = replies();
    r.failed('shell', request('execute_request'), 'a');
    r.failed('shell', request('execute_request'), 'b');
    expect(r.counter.current).toBe(2);
    expect(out.filter((o) => o.kind === 'reply').map((o) => o.content.execution_count)).toEqual([1, 2]);
    expect(r.counter.tracked).toBe(0);
  });

  it('keeps the session count a cell was given when it was dispatched, and forgets the cell once answered', () => {
    const { replies: r, out } = replies();
    const first = request('execute_request');
    const second = request('execute_request');
    expect(r.executionCount(first)).toBe(1);
    expect(r.executionCount(second)).toBe(2);
    r.failed('shell', first, 'the backend died');
    expect(out.find((o) => o.kind === 'reply')!.content.execution_count).toBe(1);
    expect(r.counter.countFor(first.msgId)).toBeUndefined();
    expect(r.counter.countFor(second.msgId)).toBe(2);
  });

  it('gives a silent cell no count of its own: the count as it stands (spec: "the current value of the counter")', () => {
    const { replies: r, out } = replies();
    r.failed('shell', request('execute_request'), 'a');
    r.failed('shell', createMessage({ msgType: 'execute_request', content: { code: '', silent: true }, session: 'c' }), 'b');
    expect(out.filter((o) => o.kind === 'reply').map((o) => o.content.execution_count)).toEqual([1, 1]);
  });

  it('puts nothing on iopub but busy/idle (and the reason once) for a silent execute_request, as the spec wants of silent', () => {
    const { replies: r, out } = replies();
    const silent = () => createMessage({ msgType: 'execute_request', content: { code: 'probe()', silent: true }, session: 'c' });
    r.failed('shell', silent(), 'no backend');
    r.failed('shell', silent(), 'no backend');
    expect(kinds(out)).toEqual(['status:busy', 'iopub:stream', 'reply:execute_reply', 'status:idle', 'status:busy', 'reply:execute_reply', 'status:idle']);
    expect(out.filter((o) => o.kind === 'reply').map((o) => o.content)).toEqual([0, 0].map((n) => expect.objectContaining({ status: 'error', execution_count: n })));
  });

  it('says each distinct reason on stderr once for what a console sends while typing, and again for each failing cell', () => {
    const { replies: r, out } = replies();
    for (let i = 0; i < 5; i++) r.failed('shell', request('is_complete_request'), 'lua cannot start');
    r.failed('shell', request('complete_request'), 'another reason');
    r.failed('shell', request('execute_request'), 'lua cannot start');
    r.failed('shell', request('execute_request'), 'lua cannot start');
    r.failed('shell', request('inspect_request'), 'lua cannot start');
    r.forgetNotices();
    r.failed('shell', request('inspect_request'), 'lua cannot start');
    const stderr = out.filter((o) => o.kind === 'iopub' && o.msgType === 'stream').map((o) => o.content.text);
    expect(stderr).toEqual(['lua cannot start', 'another reason', 'lua cannot start', 'lua cannot start', 'lua cannot start'].map((t) => `llmspell-fleet: ${t}\n`));
  });

  it('answers kernel_info with a reply a client can connect with, the reason in its banner', () => {
    const { replies: r, out } = replies();
    r.failed('control', request('kernel_info_request'), 'cannot start lua');
    expect(kinds(out)).toEqual(['status:busy', 'reply:kernel_info_reply', 'status:idle']);
    expect(out[1]).toMatchObject({ channel: 'control', content: { status: 'ok', implementation: 'llmspell-fleet', banner: 'llmspell-fleet: cannot start lua' } });
  });

  it.each([
    ['complete_request', 'shell', ['status:busy', 'iopub:stream', 'reply:complete_reply', 'status:idle']],
    ['input_reply', 'stdin', []],
    ['execute_request', 'stdin', []],
    ['comm_msg', 'shell', []],
  ] as const)('%s on %s -> %j', (msgType, channel, expected) => {
    const { replies: r, out } = replies();
    r.failed(channel, request(msgType), 'x');
    expect(kinds(out)).toEqual(expected);
  });
});

describe('RouterReplies for oversized messages', () => {
  const MB = 1024 * 1024;

  it('tells the sender of an oversized request, naming the size and the setting', () => {
    const { replies: r, out } = replies(MB);
    r.requestTooLarge('shell', request('execute_request'), 3 * MB);
    const reply = out.find((o) => o.kind === 'reply')!;
    expect(reply.content.evalue).toBe('this execute_request is 3.0 MB, more than router.max_message_mb (1.0 MB) allows (raise it in fleet.toml [router]). It was not sent; send less.');
  });

  it('replaces an oversized backend reply by an error reply addressed like it', () => {
    const { replies: r, out } = replies(MB);
    r.executionCount(createMessage({ msgType: 'execute_request', content: { code: 'a' }, session: 'c' }));
    const cell = createMessage({ msgType: 'execute_request', content: { code: 'b' }, session: 'c' });
    r.executionCount(cell);
    const original = createMessage({ msgType: 'execute_reply', content: {}, session: 'k', parentHeader: { msg_id: cell.msgId }, identities: [Buffer.from('client')] });
    r.backendTooLarge('shell', original, 2 * MB);
    expect(out).toEqual([{ kind: 'send', channel: 'shell', msgType: 'execute_reply', parent: cell.msgId, ids: ['client'], content: expect.objectContaining({ status: 'error', execution_count: 2 }) }]);
  });

  it('replaces an oversized complete_reply by the empty one the spec allows, not an error', () => {
    const { replies: r, out } = replies(MB);
    const original = createMessage({ msgType: 'complete_reply', content: {}, session: 'k', parentHeader: { msg_id: 'req-2' }, identities: [Buffer.from('client')] });
    r.backendTooLarge('shell', original, 2 * MB);
    expect(out.filter((o) => o.kind === 'send')).toEqual([
      { kind: 'send', channel: 'shell', msgType: 'complete_reply', parent: 'req-2', ids: ['client'], content: { status: 'ok', matches: [], cursor_start: 0, cursor_end: 0, metadata: {} } },
    ]);
  });

  it('replaces oversized backend output by a notice in the same cell', () => {
    const { replies: r, out } = replies(MB);
    r.backendTooLarge('iopub', createMessage({ msgType: 'display_data', content: {}, session: 'k', parentHeader: { msg_id: 'cell-1' } }), 2 * MB);
    expect(out).toEqual([{ kind: 'iopub', msgType: 'stream', parent: 'cell-1', content: { name: 'stderr', text: expect.stringMatching(/^llmspell-fleet: an display_data from the backend is 2\.0 MB.*It was dropped\.\n$/) } }]);
  });

  it.each([['stdin', 'input_request'], ['shell', 'status']] as const)('drops an oversized %s %s without a stand-in', (channel, msgType) => {
    const { replies: r, out } = replies(MB);
    r.backendTooLarge(channel, createMessage({ msgType, content: {}, session: 'k' }), 2 * MB);
    expect(out).toEqual([]);
  });
});
