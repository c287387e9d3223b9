import { describe, expect, it } from 'vitest';
import { byteLength, COPY_FRAME_MAX, DELIMITER, indexOfDelimiter, joinFrames, sendable, splitFrames, type WireParts } from '../../../src/wire/frames.js';
import { fromBase64, loadVectors } from '../../helpers/wire.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');
const json4 = (): Buffer[] => [b('{"msg_type":"x"}'), b('{}'), b('{}'), b('{"a":1}')];

function mustSplit(frames: readonly Buffer[]): WireParts {
  const r = splitFrames(frames);
  if (!r.ok) throw new Error(`split failed: ${r.reason}`);
  return r.parts;
}

describe('splitFrames on messages jupyter_client sent', () => {
  const { vectors } = loadVectors();
  it.each(vectors.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const frames = fromBase64(v.frames);
    const parts = mustSplit(frames);
    expect(parts.identities).toHaveLength(v.identities);
    expect(parts.buffers).toHaveLength(v.buffers);
    expect(parts.signature.toString('ascii')).toBe(v.signature);
    expect(frames[v.identities]!.equals(DELIMITER)).toBe(true);
    // Round trip is lossless, frame for frame.
    const joined = joinFrames(parts.identities, parts.signature, parts.signed, parts.buffers);
    expect(joined).toHaveLength(frames.length);
    joined.forEach((f, i) => expect(f.equals(frames[i]!)).toBe(true));
  });
});

describe('splitFrames layout', () => {
  it.each([
    ['no identities (delimiter first)', 0, 0],
    ['one identity', 1, 0],
    ['three identities', 3, 0],
    ['three identities and two buffers', 3, 2],
    ['no identities and one buffer', 0, 1],
  ])('%s', (_name, nIds, nBufs) => {
    const ids = Array.from({ length: nIds }, (_, i) => b(`id-${i}`));
    const sig = b('deadbeef');
    const signed = json4();
    const bufs = Array.from({ length: nBufs }, (_, i) => Buffer.from([i, 0, 255]));
    const frames = [...ids, Buffer.from('<IDS|MSG>'), sig, ...signed, ...bufs];

    expect(indexOfDelimiter(frames)).toBe(nIds);
    const parts = mustSplit(frames);
    expect(parts.identities).toHaveLength(nIds);
    expect(parts.buffers).toHaveLength(nBufs);
    // Zero-copy: the parts are the very Buffer objects that came in.
    parts.identities.forEach((f, i) => expect(f).toBe(ids[i]));
    expect(parts.signature).toBe(sig);
    parts.signed.forEach((f, i) => expect(f).toBe(signed[i]));
    parts.buffers.forEach((f, i) => expect(f).toBe(bufs[i]));
  });

  it('treats only the first delimiter as the delimiter (a buffer may contain or equal it)', () => {
    const inner = Buffer.from('<IDS|MSG>');
    const frames = [b('id'), DELIMITER, b('sig'), ...json4(), inner, b('xx<IDS|MSG>')];
    const parts = mustSplit(frames);
    expect(parts.identities).toHaveLength(1);
    expect(parts.buffers).toHaveLength(2);
    expect(parts.buffers[0]).toBe(inner);
  });

  it('does not take a frame that merely contains the delimiter bytes for the delimiter', () => {
    const frames = [b('x<IDS|MSG>'), b('<IDS|MSG>x'), b('<IDS|MSG'), Buffer.from('<ids|msg>'), DELIMITER, b('sig'), ...json4()];
    expect(indexOfDelimiter(frames)).toBe(4);
    expect(mustSplit(frames).identities).toHaveLength(4);
  });

  it('accepts an empty signature frame (unsigned message)', () => {
    const parts = mustSplit([DELIMITER, Buffer.alloc(0), ...json4()]);
    expect(parts.signature).toHaveLength(0);
  });
});

describe('splitFrames rejects', () => {
  it.each([
    ['no frames at all', [], 'MISSING_DELIMITER'],
    ['no delimiter', [b('id'), b('sig'), ...json4()], 'MISSING_DELIMITER'],
    ['lower-case delimiter', [Buffer.from('<ids|msg>'), b('sig'), ...json4()], 'MISSING_DELIMITER'],
    ['delimiter only', [DELIMITER], 'TOO_FEW_FRAMES'],
    ['delimiter and signature only', [DELIMITER, b('sig')], 'TOO_FEW_FRAMES'],
    ['content frame missing', [b('id'), DELIMITER, b('sig'), ...json4().slice(0, 3)], 'TOO_FEW_FRAMES'],
    ['delimiter last', [b('id'), b('sig'), ...json4(), DELIMITER], 'TOO_FEW_FRAMES'],
  ] as const)('%s → %s', (_name, frames, reason) => {
    expect(splitFrames(frames)).toEqual({ ok: false, reason });
  });
});

describe('joinFrames', () => {
  it('lays out identities, delimiter, signature, the four signed frames, buffers, without copying', () => {
    const ids = [b('a'), b('b')];
    const sig = b('sig');
    const signed = json4() as unknown as readonly [Buffer, Buffer, Buffer, Buffer];
    const bufs = [Buffer.from([1, 2, 3])];
    const out = joinFrames(ids, sig, signed, bufs);
    expect(out).toHaveLength(2 + 1 + 1 + 4 + 1);
    expect(out[0]).toBe(ids[0]);
    expect(out[1]).toBe(ids[1]);
    expect(out[2]!.toString()).toBe('<IDS|MSG>');
    expect(out[3]).toBe(sig);
    signed.forEach((f, i) => expect(out[4 + i]).toBe(f));
    expect(out[8]).toBe(bufs[0]);
  });

  it('is the inverse of splitFrames', () => {
    const frames = [b('id'), DELIMITER, b('sig'), ...json4(), Buffer.from([0, 1])];
    const p = mustSplit(frames);
    const again = joinFrames(p.identities, p.signature, p.signed, p.buffers);
    again.forEach((f, i) => expect(f).toBe(frames[i]));
  });
});

describe('byteLength', () => {
  it.each([
    [[], 0],
    [[Buffer.alloc(0)], 0],
    [[b('abc'), Buffer.alloc(10), b('é')], 3 + 10 + 2],
  ] as const)('%#: %j bytes', (frames, n) => {
    expect(byteLength(frames)).toBe(n);
  });
});

describe('sendable: which frames zeromq.js gets as strings (copied, no main-thread release)', () => {
  const header = b(JSON.stringify({ msg_id: 'm'.repeat(36), msg_type: 'kernel_info_reply', session: 's'.repeat(36), date: '2026-01-01T00:00:00Z' }));
  it.each([
    ['a short frame (zeromq copies it anyway)', b('<IDS|MSG>'), false],
    ['a 128-byte frame (still copied by zeromq)', b('x'.repeat(128)), false],
    ['a JSON header over 128 bytes', header, true],
    ['UTF-8 text with emoji and a NUL', b(`{"text":"${'\u00e9\ud83d\ude00\u0000'.repeat(40)}"}`), true],
    ['bytes that are not UTF-8 (a binary buffer)', Buffer.concat([b('x'.repeat(200)), Buffer.from([0xff, 0xfe])]), false],
    ['a lone surrogate encoded as bytes (CESU-8, not UTF-8)', Buffer.concat([b('x'.repeat(200)), Buffer.from([0xed, 0xa0, 0x80])]), false],
    ['a frame over COPY_FRAME_MAX', b('x'.repeat(COPY_FRAME_MAX + 1)), false],
  ])('%s', (_name, frame, asString) => {
    const [out] = sendable([frame]);
    expect(typeof out === 'string').toBe(asString);
    // Whatever form it takes, its UTF-8 bytes are the frame's bytes.
    expect(Buffer.from(out as string | Buffer).equals(frame)).toBe(true);
  });
});
