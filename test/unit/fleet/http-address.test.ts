import { describe, expect, it } from 'vitest';
import { httpOrigin, isLoopbackHost, listenWarning, parseListenAddress } from '../../../src/fleet/http-address.js';

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:0', { host: '127.0.0.1', port: 0 }],
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['0.0.0.0:80', { host: '0.0.0.0', port: 80 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['localhost:1', { host: 'localhost', port: 1 }],
    ['127.0.0.1', undefined],
    ['127.0.0.1:65536', undefined],
    ['::1:9464', undefined],
    ['[127.0.0.1]:1', undefined],
    ['999.1.1.1:1', undefined],
    ['example.com:80', undefined],
    [':80', undefined],
  ])('%s', (text, expected) => {
    expect(parseListenAddress(text)).toEqual(expected);
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['::1', true],
    ['localhost', true],
    ['0.0.0.0', false],
    ['192.168.1.1', false],
    ['::', false],
  ])('%s → %s', (host, loopback) => {
    expect(isLoopbackHost(host)).toBe(loopback);
  });

  it('brackets IPv6 in an origin', () => {
    expect(httpOrigin('::1', 8)).toBe('http://[::1]:8');
    expect(httpOrigin('127.0.0.1', 8)).toBe('http://127.0.0.1:8');
  });
});

describe('listenWarning', () => {
  it.each([
    ['127.0.0.1', false],
    ['127.1.2.3', false],
    ['::1', false],
    ['localhost', false],
    ['0.0.0.0', true],
    ['192.168.1.5', true],
    ['::', true],
  ])('%s: warned %s', (host, warned) => {
    const warning = listenWarning(host);
    expect(warning !== undefined).toBe(warned);
    if (warned) expect(warning).toMatch(/non-loopback address: anyone who can reach it and has the token controls the fleet/);
  });
});
