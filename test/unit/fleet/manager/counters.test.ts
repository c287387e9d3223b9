import { describe, expect, it } from 'vitest';
import { FleetCounters, SPAWN_BUCKETS_SECONDS, bucketIndex } from '../../../../src/fleet/manager/counters.js';

describe('bucketIndex', () => {
  it.each([
    [0, 0],
    [0.1, 0],
    [0.11, 1],
    [1, 3],
    [299, SPAWN_BUCKETS_SECONDS.length - 1],
    [300, SPAWN_BUCKETS_SECONDS.length - 1],
    [301, SPAWN_BUCKETS_SECONDS.length],
  ])('%f s → bucket %i', (seconds, index) => {
    expect(bucketIndex(seconds)).toBe(index);
  });
});

describe('FleetCounters', () => {
  it('counts spawn durations by outcome; a refusal starts nothing and has none', () => {
    const c = new FleetCounters();
    c.spawned('ok', 0.3);
    c.spawned('ok', 0.4);
    c.spawned('failed', 12);
    c.spawned('refused');
    const snap = c.snapshot();
    expect(snap.spawns).toEqual({ ok: 2, failed: 1, refused: 1 });
    expect(snap.spawnSeconds.ok.buckets[bucketIndex(0.3)]).toBe(2);
    expect(snap.spawnSeconds.ok.sumSeconds).toBeCloseTo(0.7);
    expect(snap.spawnSeconds.failed.buckets[bucketIndex(12)]).toBe(1);
    expect(snap.spawnSeconds.failed.buckets.reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('hands out copies: a snapshot does not move with later spawns', () => {
    const c = new FleetCounters();
    const before = c.snapshot();
    c.spawned('ok', 1);
    expect(before.spawnSeconds.ok.buckets.every((n) => n === 0)).toBe(true);
  });
});
