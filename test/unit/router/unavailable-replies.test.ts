/**
 * unavailableReply: what the router answers for each request type of the messaging spec when no
 * backend will, checked against the fields and statuses the spec allows for that reply.
 */
import { describe, expect, it } from 'vitest';
import { EMPTY_REPLY_TYPES, unavailableReply } from '../../../src/router/unavailable-replies.js';

/** Per reply type: the statuses the spec allows, and the fields an ok reply must have. */
const SPEC: Record<string, { statuses: string[]; fields: string[] }> = {
  is_complete_reply: { statuses: ['complete', 'incomplete', 'invalid', 'unknown'], fields: ['status'] },
  complete_reply: { statuses: ['ok'], fields: ['status', 'matches', 'cursor_start', 'cursor_end', 'metadata'] },
  inspect_reply: { statuses: ['ok'], fields: ['status', 'found', 'data', 'metadata'] },
  history_reply: { statuses: ['ok'], fields: ['status', 'history'] },
  comm_info_reply: { statuses: ['ok'], fields: ['status', 'comms'] },
  kernel_info_reply: { statuses: ['ok'], fields: ['status', 'protocol_version', 'implementation', 'implementation_version', 'language_info', 'banner'] },
};

const reason = 'the lua backend cannot start';

describe('unavailableReply', () => {
  it.each<[string, Record<string, unknown>, string, object]>([
    ['is_complete_request', { code: 'x = ' }, 'is_complete_reply', { status: 'unknown' }],
    ['complete_request', { code: 'print(x', cursor_pos: 5 }, 'complete_reply', { status: 'ok', matches: [], cursor_start: 5, cursor_end: 5, metadata: {} }],
    ['complete_request', { code: 'ab€' }, 'complete_reply', { status: 'ok', matches: [], cursor_start: 3, cursor_end: 3, metadata: {} }],
    ['inspect_request', { code: 'x', cursor_pos: 1, detail_level: 0 }, 'inspect_reply', { status: 'ok', found: false, data: {}, metadata: {} }],
    ['history_request', { hist_access_type: 'tail', n: 10 }, 'history_reply', { status: 'ok', history: [] }],
    ['comm_info_request', { target_name: 'jupyter.widget' }, 'comm_info_reply', { status: 'ok', comms: {} }],
    ['debug_request', { seq: 3, type: 'request', command: 'initialize' }, 'debug_reply', { type: 'response', request_seq: 3, success: false, command: 'initialize', message: reason }],
    ['connect_request', {}, 'connect_reply', { status: 'error', ename: 'FleetError', evalue: reason, traceback: [`FleetError: ${reason}`] }],
    ['usage_request', {}, 'usage_reply', { status: 'error', ename: 'FleetError', evalue: reason, traceback: [`FleetError: ${reason}`] }],
  ])('%s %j -> %s %j', (msgType, content, replyType, expected) => {
    expect(unavailableReply(msgType, () => content, reason)).toEqual({ kind: 'reply', msgType: replyType, content: expected });
  });

  it.each(Object.keys(SPEC))('%s uses only a status the spec allows and has every field it requires', (replyType) => {
    const answer = unavailableReply(replyType.replace(/_reply$/, '_request'), () => ({ code: 'x', cursor_pos: 1 }), reason);
    expect(answer.kind).toBe('reply');
    const content = (answer as { content: Record<string, unknown> }).content;
    expect(SPEC[replyType]!.statuses).toContain(content.status);
    for (const field of SPEC[replyType]!.fields) expect(content, field).toHaveProperty(field);
    // No error fields in a reply whose status is not 'error'.
    expect(Object.keys(content).filter((k) => ['ename', 'evalue', 'traceback'].includes(k))).toEqual([]);
  });

  it('covers every reply type the spec checks here (a new empty form needs a row in SPEC)', () => {
    expect(EMPTY_REPLY_TYPES.filter((t) => t !== 'debug_request').map((t) => t.replace(/_request$/, '_reply')).sort()).toEqual(Object.keys(SPEC).sort());
  });

  it('shows the reason in the banner of kernel_info_reply', () => {
    const answer = unavailableReply('kernel_info_request', () => ({}), reason) as { content: { banner: string } };
    expect(answer.content.banner).toBe(`llmspell-fleet: ${reason}`);
  });

  it('answers a cell with an error, for the cell and its execute_reply', () => {
    expect(unavailableReply('execute_request', () => ({ code: 'x' }), reason)).toEqual({
      kind: 'execute-error',
      content: { status: 'error', ename: 'FleetError', evalue: reason, traceback: [`FleetError: ${reason}`] },
    });
  });

  it.each(['comm_msg', 'comm_open', 'input_reply', 'execute_reply'])('gives %s (not a request) nothing', (msgType) => {
    expect(unavailableReply(msgType, () => ({}), reason)).toEqual({ kind: 'none' });
  });

  it('still answers when the request content is not a JSON object', () => {
    const broken = () => { throw new SyntaxError('Unexpected token'); };
    expect(unavailableReply('complete_request', broken, reason)).toMatchObject({ kind: 'reply', content: { cursor_start: 0, cursor_end: 0 } });
  });
});
