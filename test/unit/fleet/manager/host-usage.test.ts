import { describe, expect, it } from 'vitest';
import { HostCpu, hostCpuPercent, parseHostCpu, parseMeminfo, readHostCpuTimes, readVirtualMemory, virtualMemory } from '../../../../src/fleet/manager/host-usage.js';

const KiB = 1024;

describe('parseMeminfo', () => {
  it.each([
    ['kB lines as bytes', 'MemTotal:       1000 kB\nMemFree:         200 kB\n', { MemTotal: 1000 * KiB, MemFree: 200 * KiB }],
    ['names with parentheses', 'Active(anon):      5 kB\n', { 'Active(anon)': 5 * KiB }],
    ['counts without a unit stay counts', 'HugePages_Total:       4\n', { HugePages_Total: 4 }],
    ['lines that are not fields are skipped', 'garbage\nMemFree: x kB\n\n', {}],
  ])('%s', (_name, text, expected) => {
    expect(Object.fromEntries(parseMeminfo(text))).toEqual(expected);
  });
});

describe('virtualMemory (psutil.virtual_memory on Linux)', () => {
  const base = { MemTotal: 1000, MemFree: 200, MemAvailable: 600, Buffers: 50, Cached: 250, SReclaimable: 100, Active: 300, Inactive: 150, Shmem: 10, Slab: 120 };
  const mem = (fields: Record<string, number>) => new Map(Object.entries(fields).map(([k, v]) => [k, v * KiB]));

  it.each([
    [
      'every field, cached counting reclaimable slab, percent from available',
      base,
      { total: 1000, available: 600, percent: 40, used: 400, free: 200, active: 300, inactive: 150, buffers: 50, cached: 350, shared: 10, slab: 120 },
    ],
    ['no MemAvailable (before Linux 3.14): free + cached', { ...base, MemAvailable: undefined }, { available: 550, percent: 45 }],
    ['used never negative: total - free then', { ...base, Cached: 900, SReclaimable: 0 }, { used: 800 }],
    ['percent to one decimal', { ...base, MemTotal: 3000, MemAvailable: 1999 }, { percent: 33.4 }],
  ])('%s', (_name, fields, expected) => {
    const defined = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Record<string, number>;
    const got = virtualMemory(mem(defined));
    const inKiB = Object.fromEntries(Object.entries(got ?? {}).map(([k, v]) => [k, k === 'percent' ? v : v / KiB]));
    expect(inKiB).toMatchObject(expected);
  });

  it.each([
    ['no MemTotal', { MemFree: 1 }],
    ['no MemFree', { MemTotal: 1 }],
    ['a zero total', { MemTotal: 0, MemFree: 0 }],
  ])('undefined with %s', (_name, fields) => {
    expect(virtualMemory(mem(fields))).toBeUndefined();
  });

  it('reads this machine: total above available, percent between 0 and 100', () => {
    const vm = readVirtualMemory();
    expect(vm?.total).toBeGreaterThan(vm?.available ?? Infinity);
    expect(vm?.percent).toBeGreaterThan(0);
    expect(vm?.percent).toBeLessThan(100);
  });
});

describe('parseHostCpu', () => {
  it.each([
    ['user..steal as total, idle and iowait not busy', 'cpu  100 10 50 800 20 5 5 10 7 0\ncpu0 1 2 3 4\n', { busy: 180, total: 1000 }],
    ['an old kernel with four fields', 'cpu 10 0 10 80\n', { busy: 20, total: 100 }],
    ['only per-core lines', 'cpu0 1 2 3 4\n', undefined],
    ['not numbers', 'cpu a b c d\n', undefined],
  ])('%s', (_name, text, expected) => {
    expect(parseHostCpu(text)).toEqual(expected);
  });

  it('reads this machine', () => {
    const times = readHostCpuTimes();
    expect(times?.total).toBeGreaterThan(times?.busy ?? Infinity);
  });
});

describe('hostCpuPercent', () => {
  it.each([
    ['half busy', { busy: 0, total: 0 }, { busy: 50, total: 100 }, 50],
    ['to one decimal', { busy: 0, total: 0 }, { busy: 1, total: 3 }, 33.3],
    ['no time passed', { busy: 5, total: 10 }, { busy: 5, total: 10 }, 0],
    ['busy going back (a counter reset) is not negative', { busy: 9, total: 10 }, { busy: 5, total: 20 }, 0],
  ])('%s', (_name, before, now, expected) => {
    expect(hostCpuPercent(before, now)).toBe(expected);
  });
});

describe('HostCpu', () => {
  it('measures since boot at first, then since the previous reading; a reading with no tick elapsed keeps the last figure', () => {
    const host = new HostCpu();
    expect(host.sample({ busy: 10, total: 100 })).toBe(10);
    expect(host.sample({ busy: 60, total: 200 })).toBe(50);
    expect(host.sample({ busy: 60, total: 200 })).toBe(50);
    expect(host.sample({ busy: 60, total: 300 })).toBe(0);
  });
});
