import { describe, expect, it } from 'vitest';
import { CpuPercent, MIN_INTERVAL_MS } from '../../../../src/fleet/manager/cpu-percent.js';

describe('CpuPercent', () => {
  it('the first sample is the average over the backend life (as ps), later ones the interval since the last (as top)', () => {
    const cpu = new CpuPercent();
    // Started at 0, 1 CPU second used by 10 s: 10%.
    expect(cpu.sample('k', 1, 10_000, 0)).toBeCloseTo(10);
    // 2 more CPU seconds in the next 2 s: two cores busy.
    expect(cpu.sample('k', 3, 12_000, 0)).toBeCloseTo(100 * 2 / 2);
    // Idle since.
    expect(cpu.sample('k', 3, 14_000, 0)).toBe(0);
  });

  it('a sample sooner than the minimum interval keeps the last value (no noise from bursts of lists)', () => {
    const cpu = new CpuPercent();
    cpu.sample('k', 1, 10_000, 0);
    expect(cpu.sample('k', 9, 10_000 + MIN_INTERVAL_MS - 1, 0)).toBeCloseTo(10);
    expect(cpu.sample('k', 9, 10_000 + MIN_INTERVAL_MS, 0)).toBeCloseTo((8 * 100_000) / MIN_INTERVAL_MS);
  });

  it('forgets backends that are gone: one that comes back (a reused id) starts again from its life average', () => {
    const cpu = new CpuPercent();
    cpu.sample('k', 1, 10_000, 0);
    cpu.keepOnly(new Set());
    expect(cpu.sample('k', 2, 10_500, 0)).toBeCloseTo((2 * 100_000) / 10_500);
  });

  it('is 0, not infinite, with no time since the start', () => {
    expect(new CpuPercent().sample('k', 0, 1000, 1000)).toBe(0);
  });

  it('is 0, not negative, when the group used fewer CPU seconds than before (a process of it exited)', () => {
    const cpu = new CpuPercent();
    cpu.sample('k', 1, 10_000, 0);
    expect(cpu.sample('k', 0.5, 20_000, 0)).toBe(0);
  });
});
