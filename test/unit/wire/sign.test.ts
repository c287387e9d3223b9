import { describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import { splitFrames, type SignedFrames, type WireParts } from '../../../src/wire/frames.js';
import { createSigner, ReplayGuard } from '../../../src/wire/sign.js';
import { fromBase64, loadVectors } from '../../helpers/wire.js';

const { vectors, bad } = loadVectors();
const keyed = vectors.filter((v) => v.key !== '');
const unkeyed = vectors.filter((v) => v.key === '');

function partsOf(frames: readonly string[]): WireParts {
  const r = splitFrames(fromBase64(frames));
  if (!r.ok) throw new Error(r.reason);
  return r.parts;
}

/** A copy of the signed frames with one byte flipped in frame `which`. */
function flip(signed: SignedFrames, which: number): SignedFrames {
  return signed.map((f, i) => {
    if (i !== which) return f;
    const c = Buffer.from(f);
    c[c.length - 1] = c[c.length - 1]! ^ 0x01;
    return c;
  }) as unknown as SignedFrames;
}

describe('createSigner reproduces jupyter_client signatures', () => {
  it('covers every scheme the generator used', () => {
    expect(new Set(keyed.map((v) => v.scheme))).toEqual(new Set(['hmac-sha256', 'hmac-sha512', 'hmac-sha1', 'hmac-md5']));
    expect(unkeyed.length).toBeGreaterThan(0);
    expect(keyed.some((v) => !/^[\x00-\x7f]*$/.test(v.key))).toBe(true);
  });

  it.each(keyed.map((v) => [v.name, v] as const))('%s', (_name, v) => {
    const parts = partsOf(v.frames);
    const signer = createSigner(v.key, v.scheme);
    expect(signer.enabled).toBe(true);
    expect(signer.sign(parts.signed).toString('ascii')).toBe(v.signature);
    expect(signer.verify(parts.signature, parts.signed)).toBe(true);
  });

  it('defaults to hmac-sha256', () => {
    const v = keyed.find((x) => x.scheme === 'hmac-sha256')!;
    expect(createSigner(v.key).sign(partsOf(v.frames).signed).toString('ascii')).toBe(v.signature);
  });

  it.each([
    ['hmac-sha256', 64],
    ['hmac-sha512', 128],
    ['hmac-sha1', 40],
    ['hmac-md5', 32],
  ])('%s signatures are %i lower-case hex characters', (scheme, n) => {
    const sig = createSigner('k', scheme).sign(partsOf(vectors[0]!.frames).signed).toString('ascii');
    expect(sig).toMatch(new RegExp(`^[0-9a-f]{${n}}$`));
  });
});

describe('verify rejects tampering', () => {
  it.each(bad.map((v) => [v.name, v] as const))('jupyter_client also refused it: %s', (_name, v) => {
    expect(v.python_error).toMatch(/Invalid Signature|Unsigned Message/);
    const parts = partsOf(v.frames);
    expect(createSigner(v.key, v.scheme).verify(parts.signature, parts.signed)).toBe(false);
  });

  const sample = keyed.filter((v) => v.scheme === 'hmac-sha256' || v.scheme === 'hmac-sha512');
  const cases = sample.flatMap((v) =>
    ['header', 'parent_header', 'metadata', 'content'].map((frame, i) => [`${v.name} / ${frame}`, v, i] as const),
  );
  it.each(cases)('one flipped bit in %s', (_name, v, which) => {
    const parts = partsOf(v.frames);
    const signer = createSigner(v.key, v.scheme);
    expect(signer.verify(parts.signature, flip(parts.signed, which))).toBe(false);
  });

  it.each(keyed.map((v) => [v.name, v] as const))('%s: wrong key, truncated, upper-case or empty signature', (_name, v) => {
    const parts = partsOf(v.frames);
    const signer = createSigner(v.key, v.scheme);
    expect(createSigner(`${v.key}x`, v.scheme).verify(parts.signature, parts.signed)).toBe(false);
    expect(signer.verify(parts.signature.subarray(0, parts.signature.length - 1), parts.signed)).toBe(false);
    expect(signer.verify(Buffer.concat([parts.signature, Buffer.from('0')]), parts.signed)).toBe(false);
    expect(signer.verify(Buffer.from(parts.signature.toString('ascii').toUpperCase(), 'ascii'), parts.signed)).toBe(false);
    expect(signer.verify(Buffer.alloc(0), parts.signed)).toBe(false);
  });
});

describe('empty key', () => {
  it.each(unkeyed.map((v) => [v.name, v] as const))('%s: Session sent an empty signature', (_name, v) => {
    const parts = partsOf(v.frames);
    expect(v.signature).toBe('');
    expect(parts.signature).toHaveLength(0);
    const signer = createSigner('', v.scheme);
    expect(signer.enabled).toBe(false);
    expect(signer.sign(parts.signed)).toHaveLength(0);
    expect(signer.verify(parts.signature, parts.signed)).toBe(true);
  });

  it('checks nothing: any signature over any frames verifies', () => {
    const signer = createSigner('');
    const parts = partsOf(keyed[0]!.frames);
    expect(signer.verify(Buffer.from('garbage'), flip(parts.signed, 3))).toBe(true);
  });
});

describe('unsupported scheme', () => {
  it.each([['sha256'], ['hmac-'], ['hmac-nope'], ['HMAC-SHA256'], [''], ['hmac-sha256 ']])('%j → UNSUPPORTED_SCHEME', (scheme) => {
    for (const key of ['k', '']) {
      let err: unknown;
      try {
        createSigner(key, scheme);
      } catch (e) {
        err = e;
      }
      expect(isFleetError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'UNSUPPORTED_SCHEME', context: { scheme } });
    }
  });
});

describe('ReplayGuard', () => {
  const sig = (s: string): Buffer => Buffer.from(s, 'ascii');

  it('admits a signature once and rejects its replay', () => {
    const g = new ReplayGuard();
    expect(g.admit(sig('aa'))).toBe(true);
    expect(g.admit(sig('aa'))).toBe(false);
    expect(g.admit(Buffer.from('aa'))).toBe(false); // by value, not by object
    expect(g.admit(sig('ab'))).toBe(true);
  });

  it('never tracks empty signatures (unsigned messages carry no identity)', () => {
    const g = new ReplayGuard(1);
    expect(g.admit(Buffer.alloc(0))).toBe(true);
    expect(g.admit(Buffer.alloc(0))).toBe(true);
    expect(g.admit(sig('x'))).toBe(true);
    expect(g.admit(sig('x'))).toBe(false);
  });

  it('remembers as many signatures as jupyter_client (2**16) by default', () => {
    expect(new ReplayGuard().capacity).toBe(65536);
  });

  it('forgets the oldest signature past capacity, and only that one', () => {
    const g = new ReplayGuard(3);
    for (const s of ['s1', 's2', 's3']) expect(g.admit(sig(s))).toBe(true);
    expect(g.admit(sig('s4'))).toBe(true); // evicts s1
    expect(g.admit(sig('s2'))).toBe(false);
    expect(g.admit(sig('s3'))).toBe(false);
    expect(g.admit(sig('s4'))).toBe(false);
    expect(g.admit(sig('s1'))).toBe(true); // forgotten, so admitted again; this evicts s2
    expect(g.admit(sig('s1'))).toBe(false);
    expect(g.admit(sig('s2'))).toBe(true);
  });

  it('stays bounded under a long stream of signatures', () => {
    const g = new ReplayGuard(100);
    for (let i = 0; i < 10_000; i++) expect(g.admit(sig(`s${i}`))).toBe(true);
    // The last 100 are remembered, everything older is forgotten.
    expect(g.admit(sig('s9999'))).toBe(false);
    expect(g.admit(sig('s9900'))).toBe(false);
    expect(g.admit(sig('s9899'))).toBe(true);
  });
});
