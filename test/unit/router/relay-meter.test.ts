import { describe, expect, it } from 'vitest';
import { payloadBytes, replyStatus } from '../../../src/router/relay-meter.js';
import { WireMessage } from '../../../src/wire/codec.js';
import type { WireParts } from '../../../src/wire/frames.js';

function message(content: string, buffers: Buffer[] = []): WireMessage {
  const signed = ['{"msg_type":"execute_reply","msg_id":"m"}', '{}', '{}', content].map((s) => Buffer.from(s));
  return new WireMessage({ identities: [Buffer.from('client-id')], signature: Buffer.from('sig'), signed: signed as unknown as WireParts['signed'], buffers });
}

describe('relay meter', () => {
  it('counts the signed frames and buffers, not routing ids', () => {
    const header = '{"msg_type":"execute_reply","msg_id":"m"}'.length;
    expect(payloadBytes(message('{"status":"ok"}'))).toBe(header + 2 + 2 + 15);
    expect(payloadBytes(message('{}', [Buffer.alloc(1000)]))).toBe(header + 2 + 2 + 2 + 1000);
  });

  it.each([
    ['{"status":"ok"}', 'ok'],
    ['{"status":"error","ename":"E"}', 'error'],
    ['{"status":"aborted"}', 'aborted'],
    ['{}', 'error'],
    ['not json', 'error'],
  ])('execute_reply %s ended as %s', (content, status) => {
    expect(replyStatus(message(content))).toBe(status);
  });
});
