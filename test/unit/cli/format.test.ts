import { describe, expect, it } from 'vitest';
import { formatBytes, formatFields, formatLatency, formatPorts, formatUptime } from '../../../src/cli/format.js';

describe('formatUptime', () => {
  it.each([
    [0, '0s'],
    [999, '0s'],
    [45_000, '45s'],
    [60_000, '1m00s'],
    [192_000, '3m12s'],
    [3_600_000, '1h00m'],
    [7_500_000, '2h05m'],
    [86_400_000, '1d00h'],
    [273_600_000, '3d04h'],
    [-1, '-'],
    [Number.NaN, '-'],
  ])('%d ms -> %s', (ms, expected) => {
    expect(formatUptime(ms)).toBe(expected);
  });
});

describe('formatBytes', () => {
  it.each([
    [undefined, '-'],
    [-5, '-'],
    [0, '0 B'],
    [1023, '1023 B'],
    [1024, '1.0 KiB'],
    [1536, '1.5 KiB'],
    [10 * 1024, '10 KiB'],
    [52_428_800, '50 MiB'],
    [5_452_595, '5.2 MiB'],
    [3 * 1024 ** 3, '3.0 GiB'],
    [2 * 1024 ** 4, '2.0 TiB'],
  ])('%s -> %s', (bytes, expected) => {
    expect(formatBytes(bytes)).toBe(expected);
  });
});

describe('formatLatency', () => {
  it.each([
    [undefined, '-'],
    [0.42, '0.4ms'],
    [3, '3ms'],
    [12.6, '13ms'],
    [-1, '-'],
  ])('%s -> %s', (ms, expected) => {
    expect(formatLatency(ms)).toBe(expected);
  });
});

describe('formatPorts', () => {
  it.each([
    [[], '-'],
    [[9000, 9001, 9002, 9003, 9004], '9000-9004'],
    [[41234, 39811, 45002, 36001, 40007], '41234,39811,45002,36001,40007'],
    [[5, 6], '5,6'],
  ])('%j -> %s', (ports, expected) => {
    expect(formatPorts(ports)).toBe(expected);
  });
});

describe('formatFields', () => {
  it('aligns values after the longest key', () => {
    expect(formatFields([['id', 'lua-x'], ['connection file', '/f.json']])).toBe('id               lua-x\nconnection file  /f.json\n');
  });
});
