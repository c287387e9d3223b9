import { describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import * as v from 'valibot';
import { ClientConnectionSchema, clientConnection, parseConnectionInfo } from '../../../src/wire/connection-file.js';
import { Z85_KEY, curveClientOptions, curveServerOptions, newCurveKeyPair, usesCurve } from '../../../src/wire/curve.js';

// Keys as pyzmq's zmq.curve_keypair() printed them (ipykernel reads exactly this form).
const PUBLIC = 'i6[(#F8yM+<Ljpc(Zjs1kdaLJdnXFN<x30R8RbT0';
const SECRET = '!upLRo[JGeuG@?0QFbvRhKUZLCWD/G2k]=1p?KZ9';

const base = { shell_port: 50001, iopub_port: 50002, stdin_port: 50003, control_port: 50004, hb_port: 50005, key: 'abc' };
const text = (over: Record<string, unknown>) => JSON.stringify({ ...base, ...over });

function failure(over: Record<string, unknown>): { message: string; field: unknown } {
  try {
    parseConnectionInfo(text(over), '/run/k.json');
  } catch (error) {
    expect(isFleetError(error)).toBe(true);
    const e = error as Error & { code: string; context: { field?: unknown } };
    expect(e.code).toBe('BAD_CONNECTION_FILE');
    return { message: e.message, field: e.context.field };
  }
  throw new Error('expected parseConnectionInfo to throw');
}

describe('connection file curve keys', () => {
  it.each([
    ['neither', {}, undefined],
    ['both', { curve_publickey: PUBLIC, curve_secretkey: SECRET }, PUBLIC],
  ])('accepts %s', (_name, over, expected) => {
    const info = parseConnectionInfo(text(over));
    expect(info.curve_publickey).toBe(expected);
    expect(usesCurve(info)).toBe(expected !== undefined);
  });

  const wrongKey = 'must be a CurveZMQ key: 40 characters of Z85 text, as zmq.curve_keypair() makes them';
  const pair = 'the curve keys come as a pair: set both or neither';
  it.each([
    ['public key alone', { curve_publickey: PUBLIC }, 'curve_secretkey', `is missing: curve_publickey is set, and ${pair}`],
    ['secret key alone', { curve_secretkey: SECRET }, 'curve_publickey', `is missing: curve_secretkey is set, and ${pair}`],
    ['39 characters', { curve_publickey: PUBLIC.slice(1), curve_secretkey: SECRET }, 'curve_publickey', wrongKey],
    ['41 characters', { curve_publickey: PUBLIC, curve_secretkey: `${SECRET}a` }, 'curve_secretkey', wrongKey],
    ['a character outside Z85', { curve_publickey: PUBLIC, curve_secretkey: `${SECRET.slice(1)}~` }, 'curve_secretkey', wrongKey],
    ['hex (64 characters, another encoding)', { curve_publickey: 'ab'.repeat(32), curve_secretkey: SECRET }, 'curve_publickey', wrongKey],
    ['a number', { curve_publickey: PUBLIC, curve_secretkey: 12 }, 'curve_secretkey', wrongKey],
    ['null', { curve_publickey: null, curve_secretkey: SECRET }, 'curve_publickey', wrongKey],
  ])('refuses %s, naming the file and the field', (_name, over, field, message) => {
    expect(failure(over)).toEqual({ field, message: `/run/k.json: ${field} ${message}` });
  });

  it('never echoes a secret key it refuses', () => {
    const bad = `${SECRET.slice(0, 39)}~`;
    expect(failure({ curve_publickey: PUBLIC, curve_secretkey: bad }).message).not.toContain(bad.slice(0, 20));
  });
});

describe('curve keys and client options', () => {
  it('makes pairs in the form the connection file takes, a new one each time', () => {
    const a = newCurveKeyPair();
    const b = newCurveKeyPair();
    for (const key of [a.publicKey, a.secretKey, b.publicKey]) expect(key).toMatch(Z85_KEY);
    expect(a.publicKey).not.toBe(b.publicKey);
    expect(parseConnectionInfo(text({ curve_publickey: a.publicKey, curve_secretkey: a.secretKey })).curve_secretkey).toBe(a.secretKey);
  });

  it('gives no options for a kernel without keys', () => {
    expect(curveClientOptions({})).toEqual({});
  });

  it("names the kernel's public key as the server and brings a fresh client pair, never the kernel's secret", () => {
    const first = curveClientOptions({ curve_publickey: PUBLIC, curve_secretkey: SECRET });
    const second = curveClientOptions({ curve_publickey: PUBLIC, curve_secretkey: SECRET });
    expect(first).toMatchObject({ curveServerKey: PUBLIC });
    expect(Object.values(first)).not.toContain(SECRET);
    expect('curvePublicKey' in first && 'curvePublicKey' in second && first.curvePublicKey !== second.curvePublicKey).toBe(true);
  });
});

describe("a client's view of the connection (the manager's handles)", () => {
  it.each([
    ['without curve: all of it', {}, {}],
    ['with curve: the public key only', { curve_publickey: PUBLIC, curve_secretkey: SECRET }, { curve_publickey: PUBLIC }],
  ])('%s', (_name, over, expected) => {
    const info = parseConnectionInfo(text(over));
    const view = clientConnection(info);
    expect(view).toEqual({ ...info, curve_secretkey: undefined, ...expected });
    expect(Object.keys(view)).not.toContain('curve_secretkey');
    expect(v.safeParse(ClientConnectionSchema, view).success).toBe(true);
  });

  it('still refuses a secret key without its public key', () => {
    expect(v.safeParse(ClientConnectionSchema, { ...base, curve_secretkey: SECRET }).success).toBe(false);
  });
});

describe('curveServerOptions (a kernel serving curve, as test peers and the bench do)', () => {
  it.each([
    ['no keys: plain', {}, {}],
    ['a pair: a curve server with it', { curve_publickey: PUBLIC, curve_secretkey: SECRET }, { curveServer: true, curvePublicKey: PUBLIC, curveSecretKey: SECRET }],
    ["a client's view (no secret): nothing to serve with", { curve_publickey: PUBLIC }, {}],
  ])('%s', (_name, info, expected) => {
    expect(curveServerOptions(info)).toEqual(expected);
  });
});
