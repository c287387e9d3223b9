import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/shared/log.js';

const SECRET = '!upLRo[JGeuG@?0QFbvRhKUZLCWD/G2k]=1p?KZ9';
const HMAC = 'f'.repeat(64);

function logged(obj: object): string {
  let out = '';
  const destination = new Writable({
    write(chunk, _enc, done) {
      out += String(chunk);
      done();
    },
  });
  createLogger({ destination, level: 'info' }).info(obj, 'line');
  return out;
}

describe('log redaction of connection info', () => {
  const info = { shell_port: 1, key: HMAC, curve_publickey: 'i6[(#F8yM+<Ljpc(Zjs1kdaLJdnXFN<x30R8RbT0', curve_secretkey: SECRET };
  it.each([
    ['at the top', info],
    ['one level down', { connection: info }],
    ['two levels down (a backend handle)', { handle: { connection: info } }],
  ])('hides the curve secret key and the HMAC key %s, keeps the public key', (_name, obj) => {
    const line = logged(obj);
    expect(line).not.toContain(SECRET);
    expect(line).not.toContain(HMAC);
    expect(line).toContain('[redacted]');
    expect(line).toContain('i6[(#F8yM');
  });
});
