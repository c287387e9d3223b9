import { describe, expect, it } from 'vitest';
import { createMessage, decode, encode, WireMessage, type DecodeOptions } from '../../../src/wire/codec.js';
import { byteLength, DELIMITER, splitFrames } from '../../../src/wire/frames.js';
import { createSigner, ReplayGuard } from '../../../src/wire/sign.js';
import {
  fromBase64,
  jupyterDeserialize,
  loadVectors,
  signedFrames,
  signRaw,
  toBase64,
  type WireVector,
} from '../../helpers/wire.js';

const { vectors, bad } = loadVectors();
const SESSION_ID = '5f0c9b2e-1a3d-4e6f-8b7a-0c1d2e3f4a5b';
const HOP_KEY = 'e0b6f2a41c9d4e3b8a7f6c5d4e3b2a19';

function mustDecode(frames: readonly Buffer[], options: DecodeOptions): WireMessage {
  const r = decode(frames, options);
  if (!r.ok) throw new Error(`decode refused: ${r.reason}`);
  return r.msg;
}

const signerFor = (v: Pick<WireVector, 'key' | 'scheme'>) => createSigner(v.key, v.scheme);

describe('decode messages jupyter_client sent', () => {
  it.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const frames = fromBase64(v.frames);
    const msg = mustDecode(frames, { signer: signerFor(v), replay: new ReplayGuard() });
    expect(msg.msgType).toBe(v.msg_type);
    expect(msg.msgId).toBe(v.msg_id);
    expect(msg.header.session).toBe(SESSION_ID);
    expect(msg.header.date).toBe('2024-05-06T07:08:09.123456Z');
    expect(msg.identities).toHaveLength(v.identities);
    expect(msg.buffers).toHaveLength(v.buffers);
    // Zero-copy: identities and buffers are the received Buffers themselves.
    msg.identities.forEach((f, i) => expect(f).toBe(frames[i]));
    msg.buffers.forEach((f, i) => expect(f).toBe(frames[v.identities + 6 + i]));
  });

  it('keeps unicode code, metadata, parent headers and binary buffers intact', () => {
    const find = (t: string) => vectors.find((v) => v.msg_type === t && v.scheme === 'hmac-sha256' && v.key !== '')!;

    const exec = mustDecode(fromBase64(find('execute_request').frames), { signer: signerFor(find('execute_request')) });
    expect(exec.content<{ code: string }>().code).toBe("print('h\u00e9llo w\u00f6rld \u2713 \u{1f40d}')\n# \u65e5\u672c\u8a9e");
    expect(exec.metadata()).toEqual({
      cellId: 'vscode-notebook-cell:/home/u/na\u00efve.ipynb#W1sZmlsZQ==',
      deletedCells: [],
      recordTiming: false,
    });
    expect(exec.parentHeader).toEqual({});

    const comm = mustDecode(fromBase64(find('comm_msg').frames), { signer: signerFor(find('comm_msg')) });
    expect(comm.buffers[0]!.equals(Buffer.from(Array.from({ length: 256 }, (_, i) => i)))).toBe(true);
    expect(comm.buffers[1]!.equals(Buffer.from('\x00\xff<IDS|MSG>\x80', 'latin1'))).toBe(true);

    const reply = mustDecode(fromBase64(find('execute_reply').frames), { signer: signerFor(find('execute_reply')) });
    expect(reply.parentHeader.msg_id).toBe('00000000-0000-4000-8000-0000000000a1');
    expect(reply.identities.map((i) => i.toString('latin1'))).toEqual(['\x00k\x8bEg', SESSION_ID, 'proxy-hop-2']);

    const stream = mustDecode(fromBase64(find('stream').frames), { signer: signerFor(find('stream')) });
    expect(stream.identities[0]!.toString()).toBe('kernel.5f0c9b2e.stream');
    expect(stream.content()).toEqual({ name: 'stdout', text: 'h\u00e9llo w\u00f6rld \u2713 \u{1f40d}\n' });
  });

  it('does not sign identities or buffers: swapping them keeps the message valid', () => {
    const v = vectors.find((x) => x.buffers === 2 && x.key !== '')!;
    const frames = fromBase64(v.frames);
    const d = frames.findIndex((f) => f.equals(DELIMITER));
    const changed = [Buffer.from('another-peer'), ...frames.slice(d, d + 6), Buffer.from('other buffer')];
    const msg = mustDecode(changed, { signer: signerFor(v) });
    expect(msg.identities[0]!.toString()).toBe('another-peer');
    expect(msg.buffers).toHaveLength(1);
  });
});

describe('decode rejects', () => {
  it.each(bad.map((v) => [v.name, v] as const))('%s → BAD_SIGNATURE (jupyter_client agrees)', (_name, v) => {
    expect(decode(fromBase64(v.frames), { signer: signerFor(v) })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it.each(vectors.filter((v) => v.key !== '').map((v) => [v.name, v] as const))('%s with another key → BAD_SIGNATURE', (_name, v) => {
    expect(decode(fromBase64(v.frames), { signer: createSigner(HOP_KEY, v.scheme) })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  const KEY = 'k3y';
  const signer = createSigner(KEY);
  const H = (o: object) => JSON.stringify({ msg_id: 'm1', msg_type: 'execute_request', session: 's', username: 'u', date: '', version: '5.4', ...o });

  it.each([
    ['header not JSON', ['{"msg_id": "m1", "msg_type": ', '{}', '{}', '{}'], 'BAD_JSON'],
    ['parent_header not JSON', [H({}), 'nope', '{}', '{}'], 'BAD_JSON'],
    ['header is null', ['null', '{}', '{}', '{}'], 'BAD_HEADER'],
    ['header is an array', ['["execute_request"]', '{}', '{}', '{}'], 'BAD_HEADER'],
    ['header without msg_type', [JSON.stringify({ msg_id: 'm1', session: 's' }), '{}', '{}', '{}'], 'BAD_HEADER'],
    ['header with numeric msg_type', [H({ msg_type: 7 }), '{}', '{}', '{}'], 'BAD_HEADER'],
    ['header without msg_id', [JSON.stringify({ msg_type: 'execute_request' }), '{}', '{}', '{}'], 'BAD_HEADER'],
  ] as const)('%s → %s', (_name, signedParts, reason) => {
    const frames = signRaw({ key: KEY, signed: signedParts, identities: ['peer'] });
    expect(decode(frames, { signer })).toEqual({ ok: false, reason });
  });

  it.each([
    ['no delimiter', (f: Buffer[]) => f.filter((x) => !x.equals(DELIMITER)), 'MISSING_DELIMITER'],
    ['no frames', () => [], 'MISSING_DELIMITER'],
    ['content frame cut off', (f: Buffer[]) => f.slice(0, -1), 'TOO_FEW_FRAMES'],
    ['only the delimiter and signature', (f: Buffer[]) => f.slice(0, 3), 'TOO_FEW_FRAMES'],
  ] as const)('%s → %s', (_name, mangle, reason) => {
    const frames = signedFrames({ key: KEY, msgType: 'kernel_info_request', identities: ['peer'] });
    expect(decode(mangle(frames), { signer })).toEqual({ ok: false, reason });
  });

  it('TOO_LARGE above maxBytes, counting every frame, before anything else is looked at', () => {
    const frames = signedFrames({ key: KEY, msgType: 'comm_msg', identities: ['peer'], buffers: [Buffer.alloc(1000)] });
    const size = byteLength(frames);
    expect(decode(frames, { signer, maxBytes: size }).ok).toBe(true);
    const over = decode(frames, { signer, maxBytes: size - 1 });
    expect(over).toMatchObject({ ok: false, reason: 'TOO_LARGE', bytes: size });
    // Properly signed: the message comes back so its sender can be answered.
    expect(over.ok === false && over.msg?.msgType).toBe('comm_msg');
    // Size wins over a missing delimiter and a bad signature; then there is no message to answer.
    expect(decode([Buffer.alloc(50)], { signer, maxBytes: 10 })).toEqual({ ok: false, reason: 'TOO_LARGE', bytes: 50 });
    const forged = [...frames];
    forged[2] = Buffer.from('0'.repeat(64));
    expect(decode(forged, { signer, maxBytes: 10 })).toEqual({ ok: false, reason: 'TOO_LARGE', bytes: byteLength(forged) });
  });

  it('REPLAYED_SIGNATURE when the same signed message comes twice through one ReplayGuard', () => {
    const frames = signedFrames({ key: KEY, msgType: 'execute_request', content: { code: '1' } });
    const replay = new ReplayGuard();
    expect(decode(frames, { signer, replay }).ok).toBe(true);
    expect(decode(frames, { signer, replay })).toEqual({ ok: false, reason: 'REPLAYED_SIGNATURE' });
    // A replay with other routing ids is still a replay: ids are not signed.
    const [, ...rest] = frames;
    expect(decode([Buffer.from('other'), DELIMITER, ...rest], { signer, replay })).toEqual({ ok: false, reason: 'REPLAYED_SIGNATURE' });
    // Without a guard, nothing is remembered.
    expect(decode(frames, { signer }).ok).toBe(true);
  });

  it('a forged message does not burn its signature in the ReplayGuard', () => {
    const genuine = signedFrames({ key: KEY, msgType: 'execute_request', content: { code: 'ok' } });
    const forged = genuine.map((f, i) => (i === 5 ? Buffer.from('{"code":"evil"}') : f));
    const replay = new ReplayGuard();
    expect(decode(forged, { signer, replay })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
    expect(decode(genuine, { signer, replay }).ok).toBe(true);
  });

  it('with an empty key, unsigned messages are never treated as replays', () => {
    const v = vectors.find((x) => x.key === '')!;
    const replay = new ReplayGuard();
    const frames = fromBase64(v.frames);
    expect(decode(frames, { signer: createSigner(''), replay }).ok).toBe(true);
    expect(decode(frames, { signer: createSigner(''), replay }).ok).toBe(true);
  });

  it('checks the signature before parsing anything: a forged bad header is BAD_SIGNATURE, not BAD_JSON', () => {
    const frames = signRaw({ key: 'other', signed: ['not json', '{}', '{}', '{}'] });
    expect(decode(frames, { signer })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });
});

describe('lazy parsing', () => {
  it('decodes a message whose content and metadata are not JSON: only header and parent are parsed', () => {
    const frames = signRaw({
      key: 'k',
      signed: [JSON.stringify({ msg_id: 'm', msg_type: 'comm_msg', session: 's' }), '{}', '{meta', '\xff not json'],
    });
    const r = decode(frames, { signer: createSigner('k') });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.msg.msgType).toBe('comm_msg');
    expect(() => r.msg.content()).toThrow(SyntaxError);
    expect(() => r.msg.metadata()).toThrow(SyntaxError);
    // The raw bytes are still relayable.
    expect(encode(r.msg, createSigner('k2'))[5]!.toString()).toBe('\xff not json');
  });

  it('withIdentities shares every frame and the parsed header', () => {
    const frames = signedFrames({ key: 'k', msgType: 'status', content: { execution_state: 'idle' }, identities: ['a'], buffers: [Buffer.from([1])] });
    const msg = mustDecode(frames, { signer: createSigner('k') });
    const topic = Buffer.from('kernel.x.status');
    const moved = msg.withIdentities([topic]);
    expect(moved.identities).toEqual([topic]);
    expect(moved.identities[0]).toBe(topic);
    expect(moved.header).toBe(msg.header);
    moved.parts.signed.forEach((f, i) => expect(f).toBe(msg.parts.signed[i]));
    expect(moved.buffers[0]).toBe(msg.buffers[0]);
    expect(msg.identities[0]!.toString()).toBe('a');
  });
});

describe('encode re-signs for the next hop', () => {
  const hop = createSigner(HOP_KEY, 'hmac-sha256');

  it.each(vectors.map((v) => [v.name, v] as const))('%s: verifies with the new key only, frames shared', (_name, v) => {
    const msg = mustDecode(fromBase64(v.frames), { signer: signerFor(v) });
    const out = encode(msg, hop);
    const split = splitFrames(out);
    expect(split.ok).toBe(true);
    if (!split.ok) return;
    // Same bytes, same Buffer objects: nothing was re-serialised.
    split.parts.signed.forEach((f, i) => expect(f).toBe(msg.parts.signed[i]));
    split.parts.buffers.forEach((f, i) => expect(f).toBe(msg.buffers[i]));
    split.parts.identities.forEach((f, i) => expect(f).toBe(msg.identities[i]));
    expect(hop.verify(split.parts.signature, split.parts.signed)).toBe(true);
    expect(decode(out, { signer: hop }).ok).toBe(true);
    if (v.key !== '') expect(decode(out, { signer: signerFor(v) })).toEqual({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('replaces identities when asked', () => {
    const v = vectors.find((x) => x.identities === 3)!;
    const msg = mustDecode(fromBase64(v.frames), { signer: signerFor(v) });
    const id = Buffer.from('backend-dealer');
    const out = encode(msg, hop, [id]);
    expect(out[0]).toBe(id);
    expect(out[1]!.equals(DELIMITER)).toBe(true);
    expect(out).toHaveLength(1 + 6 + v.buffers);
  });

  it('jupyter_client accepts every re-signed message, and refuses them with the old key', () => {
    const resigned = vectors.map((v) => encode(mustDecode(fromBase64(v.frames), { signer: signerFor(v) }), hop));
    const results = jupyterDeserialize({ key: HOP_KEY, scheme: 'hmac-sha256', messages: resigned });
    expect(results).toHaveLength(vectors.length);
    results.forEach((r, i) => {
      const v = vectors[i]!;
      expect(r, v.name).toMatchObject({ ok: true, msg_type: v.msg_type, msg_id: v.msg_id });
      if (!r.ok) return;
      expect(r.identities).toEqual(v.frames.slice(0, v.identities));
      expect(r.buffers).toEqual(v.frames.slice(v.identities + 6));
    });
    // Negative control: the same frames under the original key are refused, so the check can fail.
    const refused = jupyterDeserialize({ key: vectors[0]!.key, scheme: vectors[0]!.scheme, messages: [resigned[0]!] });
    expect(refused[0]).toMatchObject({ ok: false });
    expect(!refused[0]!.ok && refused[0]!.error).toMatch(/Invalid Signature/);
  });

  it('jupyter_client accepts re-signing with other schemes and with an empty key', () => {
    const v = vectors.find((x) => x.buffers === 2 && x.key !== '')!;
    const msg = mustDecode(fromBase64(v.frames), { signer: signerFor(v) });
    for (const [key, scheme] of [[HOP_KEY, 'hmac-sha512'], [HOP_KEY, 'hmac-md5'], ['', 'hmac-sha256'], ['cl\u00e9', 'hmac-sha1']] as const) {
      const [r] = jupyterDeserialize({ key, scheme, messages: [encode(msg, createSigner(key, scheme))] });
      expect(r, `${scheme} key=${JSON.stringify(key)}`).toMatchObject({ ok: true, msg_id: v.msg_id });
    }
  });

  it("jupyter_client's replay protection sees a resend of the same signed frames", () => {
    const v = vectors[0]!;
    const out = encode(mustDecode(fromBase64(v.frames), { signer: signerFor(v) }), hop);
    const [first, second] = jupyterDeserialize({ key: HOP_KEY, messages: [out, out], sharedSession: true });
    expect(first).toMatchObject({ ok: true });
    expect(second).toMatchObject({ ok: false });
    expect(!second!.ok && second!.error).toMatch(/Duplicate Signature/);
  });
});

describe('createMessage', () => {
  it('builds a message jupyter_client accepts once signed', () => {
    const parent = { msg_id: 'p1', msg_type: 'execute_request', session: 'client', username: 'u', date: '2024-01-01T00:00:00Z', version: '5.4' };
    const msg = createMessage({
      msgType: 'status',
      content: { execution_state: 'idle' },
      session: 'router-session',
      parentHeader: parent,
      identities: [Buffer.from('kernel.router.status')],
      buffers: [Buffer.from([0, 1, 2])],
    });
    expect(msg.msgType).toBe('status');
    expect(msg.msgId).toMatch(/^[0-9a-f-]{36}$/);
    const signer = createSigner(HOP_KEY);
    const frames = encode(msg, signer);
    expect(decode(frames, { signer }).ok).toBe(true);

    const [r] = jupyterDeserialize({ key: HOP_KEY, messages: [frames] });
    expect(r).toMatchObject({
      ok: true,
      msg_type: 'status',
      msg_id: msg.msgId,
      identities: toBase64([Buffer.from('kernel.router.status')]),
      buffers: toBase64([Buffer.from([0, 1, 2])]),
      content: { execution_state: 'idle' },
      parent_header: { msg_id: 'p1', msg_type: 'execute_request' },
      header: { session: 'router-session', version: '5.4' },
    });
  });

  it('gives every message its own msg_id', () => {
    const ids = new Set(Array.from({ length: 100 }, () => createMessage({ msgType: 'status', content: {}, session: 's' }).msgId));
    expect(ids.size).toBe(100);
  });
});
