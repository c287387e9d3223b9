/** The per-message-type content map, as the compiler sees it through JupyterClient and WireMessage. */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { JupyterClient } from '../../../src/wire/client.js';
import type { WireMessage } from '../../../src/wire/codec.js';
import type { ContentOf, ExecuteReply, KernelInfoReply, ReplyTypeOf, Status, Stream } from '../../../src/wire/messages.js';
import { CONTROL_REQUESTS } from '../../../src/wire/messages.js';

describe('message content map', () => {
  it('pairs requests with replies and types their content', () => {
    expectTypeOf<ReplyTypeOf<'kernel_info_request'>>().toEqualTypeOf<'kernel_info_reply'>();
    expectTypeOf<ReplyTypeOf<'is_complete_request'>>().toEqualTypeOf<'is_complete_reply'>();
    expectTypeOf<ContentOf<'status'>>().toEqualTypeOf<Status>();
    expectTypeOf<ContentOf<'stream'>>().toEqualTypeOf<Stream>();
    // Types outside the map read as plain JSON objects.
    expectTypeOf<ContentOf<'custom_thing'>>().toEqualTypeOf<Record<string, unknown>>();
    // Checked by the compiler (npm run typecheck); never called.
    const typed = (m: WireMessage<'execute_reply'>) => expectTypeOf(m.content()).toEqualTypeOf<ExecuteReply>();
    const untyped = (m: WireMessage) => expectTypeOf(m.content()).toEqualTypeOf<Record<string, unknown>>();
    expect([typeof typed, typeof untyped]).toEqual(['function', 'function']);
  });

  it('types request() by msg_type', () => {
    const kernelInfo = async (c: JupyterClient) => expectTypeOf((await c.request('kernel_info_request', {})).content()).toEqualTypeOf<KernelInfoReply>();
    expect(typeof kernelInfo).toBe('function');
    // @ts-expect-error execute_request needs its fields
    const bad = (c: JupyterClient) => c.request('execute_request', { code: 'x' });
    expect(typeof bad).toBe('function');
  });

  it.each([
    ['shutdown_request', true],
    ['interrupt_request', true],
    ['debug_request', true],
    ['execute_request', false],
    ['kernel_info_request', false],
  ])('%s goes on control: %s', (msgType, control) => {
    expect(CONTROL_REQUESTS.has(msgType)).toBe(control);
  });
});
