import { describe, expect, it } from 'vitest';
import { TOKEN_COOKIE, hostAllowed, newToken, parseCookies, presentedToken, tokenCookie, tokenMatches } from '../../../../../src/fleet/manager/http/auth.js';

describe('tokenMatches', () => {
  it.each([
    ['the same token', 'abc123', 'abc123', true],
    ['another token', 'abc123', 'abc124', false],
    ['a prefix of it', 'abc123', 'abc', false],
    ['it with more after', 'abc123', 'abc1234', false],
    ['nothing', 'abc123', undefined, false],
    ['an empty string', 'abc123', '', false],
    ['an empty expected token never matches', '', '', false],
  ])('%s', (_name, expected, given, ok) => {
    expect(tokenMatches(expected, given)).toBe(ok);
  });

  it('makes a different 64-hex-digit token each time', () => {
    const a = newToken();
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(newToken()).not.toBe(a);
  });
});

describe('presentedToken', () => {
  it.each([
    ['a bearer header', { authorization: 'Bearer t1' }, '', { token: 't1', via: 'header' }],
    ['a lower-case scheme', { authorization: 'bearer t1' }, '', { token: 't1', via: 'header' }],
    ['a header that is not bearer: an empty token, never the cookie', { authorization: 'Basic dTpw', cookie: `${TOKEN_COOKIE}=t3` }, '', { token: '', via: 'header' }],
    ['the query', {}, 'token=t2', { token: 't2', via: 'query' }],
    ['the header over the query', { authorization: 'Bearer t1' }, 'token=t2', { token: 't1', via: 'header' }],
    ['the query over the cookie', { cookie: `${TOKEN_COOKIE}=t3` }, 'token=t2', { token: 't2', via: 'query' }],
    ['the cookie', { cookie: `other=x; ${TOKEN_COOKIE}=t3` }, '', { token: 't3', via: 'cookie' }],
    ['nothing', {}, '', undefined],
  ])('%s', (_name, headers, query, expected) => {
    expect(presentedToken(headers, new URLSearchParams(query))).toEqual(expected);
  });
});

describe('parseCookies', () => {
  it.each([
    ['', {}],
    ['a=1', { a: '1' }],
    ['a=1; b=2', { a: '1', b: '2' }],
    ['a=1; a=2', { a: '1' }],
    ['junk; a=x=y', { a: 'x=y' }],
  ])('%j', (header, expected) => {
    expect(parseCookies(header)).toEqual(expected);
  });

  it('sets the cookie HttpOnly and SameSite=Strict', () => {
    expect(tokenCookie('t')).toBe(`${TOKEN_COOKIE}=t; HttpOnly; SameSite=Strict; Path=/`);
  });
});

describe('hostAllowed', () => {
  it.each([
    ['127.0.0.1 with the port', '127.0.0.1:9464', 9464, true, true],
    ['localhost with the port', 'localhost:9464', 9464, true, true],
    ['LOCALHOST', 'LOCALHOST:9464', 9464, true, true],
    ['[::1] with the port', '[::1]:9464', 9464, true, true],
    ['another port', '127.0.0.1:9000', 9464, true, false],
    ['no port means 80', 'localhost', 80, true, true],
    ['a rebound DNS name', 'evil.example:9464', 9464, true, false],
    ['a LAN address', '192.168.1.2:9464', 9464, true, false],
    ['no Host header', undefined, 9464, true, false],
    ['anything when bound beyond loopback on purpose', 'fleet.example:9464', 9464, false, true],
  ])('%s', (_name, host, port, loopback, ok) => {
    expect(hostAllowed(host, port, loopback)).toBe(ok);
  });
});
