import { createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';
import { FleetError } from '../shared/errors.js';
import type { SignedFrames } from './frames.js';
import { RecentSet } from './recent-set.js';

/**
 * HMAC over the raw bytes of header, parent_header, metadata and content, exactly as they
 * travelled. Re-signing for another hop is therefore a hash over the same Buffers: no JSON
 * is parsed or re-serialised, so nothing about the message can change on the way.
 */
export interface Signer {
  /** False for an empty key: Jupyter then sends an empty signature and checks nothing. */
  readonly enabled: boolean;
  sign(signed: SignedFrames): Buffer;
  verify(signature: Buffer, signed: SignedFrames): boolean;
}

const SCHEMES: Readonly<Record<string, string>> = {
  'hmac-sha256': 'sha256',
  'hmac-sha1': 'sha1',
  'hmac-sha512': 'sha512',
  'hmac-sha384': 'sha384',
  'hmac-sha224': 'sha224',
  'hmac-md5': 'md5',
};

const EMPTY = Buffer.alloc(0);

export function createSigner(key: string, scheme = 'hmac-sha256'): Signer {
  const algorithm = SCHEMES[scheme];
  if (algorithm === undefined) {
    throw new FleetError('UNSUPPORTED_SCHEME', `unsupported signature_scheme "${scheme}": use one of ${Object.keys(SCHEMES).join(', ')}`, { scheme });
  }
  if (key.length === 0) {
    return { enabled: false, sign: () => EMPTY, verify: () => true };
  }
  // UTF-8, as jupyter_client and ipykernel encode the connection file's key (str.encode()).
  // One KeyObject for the signer's life: a Buffer key is imported again on every createHmac.
  const keyObject = createSecretKey(Buffer.from(key, 'utf8'));
  const sign = (signed: SignedFrames): Buffer => {
    const h = createHmac(algorithm, keyObject);
    for (const frame of signed) h.update(frame);
    return Buffer.from(h.digest('hex'), 'ascii');
  };
  return {
    enabled: true,
    sign,
    verify(signature, signed) {
      const expected = sign(signed);
      return signature.length === expected.length && timingSafeEqual(signature, expected);
    },
  };
}

/**
 * Remembers signatures already accepted, as jupyter_client's Session does, so that a captured
 * message cannot be replayed through the router. Bounded: the oldest entries are forgotten.
 */
export class ReplayGuard {
  readonly #seen: RecentSet;

  constructor(readonly capacity = 65536) {
    this.#seen = new RecentSet(capacity);
  }

  /** True the first time a signature is seen, false for a replay. Empty signatures are not tracked. */
  admit(signature: Buffer): boolean {
    if (signature.length === 0) return true;
    const s = signature.toString('latin1');
    if (this.#seen.has(s)) return false;
    this.#seen.add(s);
    return true;
  }
}
