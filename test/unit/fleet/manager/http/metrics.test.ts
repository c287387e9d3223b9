import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FleetManager } from '../../../../../src/fleet/manager/fleet.js';
import { countByState, createFleetMetrics, metricNameProblems } from '../../../../../src/fleet/manager/http/metrics.js';
import type { ListedBackend } from '../../../../../src/fleet/manager/protocol.js';

describe('metricNameProblems', () => {
  it.each([
    ['llmspell_fleet_backend_resident_memory_bytes', 'gauge', []],
    ['llmspell_fleet_spawns_total', 'counter', []],
    ['llmspell_fleet_spawns', 'counter', ['is a counter without the _total suffix']],
    ['llmspell_fleet_backends_total', 'gauge', ['ends in _total but is not a counter']],
    ['llmspell_fleet_backend_memory_kb', 'gauge', ['uses the unit kb; use base units (seconds, bytes, ratio)']],
    ['llmspell_fleet_spawn_milliseconds', 'histogram', ['uses the unit milliseconds; use base units (seconds, bytes, ratio)']],
    ['fleet_backends', 'gauge', ['does not start with llmspell_fleet_']],
    ['llmspell-fleet_x', 'gauge', ['has characters outside [a-zA-Z0-9_:]', 'does not start with llmspell_fleet_']],
  ])('%s (%s)', (name, type, problems) => {
    expect(metricNameProblems(name, type)).toEqual(problems);
  });

  it('finds no problem in any metric the manager exports, its own process metrics included', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fleet-metrics-'));
    try {
      const { registry } = createFleetMetrics(new FleetManager({ home, persist: false }));
      const metrics = await registry.getMetricsAsJSON();
      expect(metrics.map((m) => m.name)).toEqual(expect.arrayContaining(['llmspell_fleet_backends', 'llmspell_fleet_backend_cpu_seconds_total', 'llmspell_fleet_manager_process_resident_memory_bytes', 'llmspell_fleet_messages_relayed_total', 'llmspell_fleet_relayed_bytes_total', 'llmspell_fleet_messages_dropped_total', 'llmspell_fleet_executions_total', 'llmspell_fleet_execution_duration_seconds', 'llmspell_fleet_spawn_duration_seconds', 'llmspell_fleet_backend_up', 'llmspell_fleet_backend_open_fds', 'llmspell_fleet_backend_memory_limit_bytes']));
      const problems = metrics.map((m) => ({ name: m.name, problems: metricNameProblems(m.name, String(m.type)) }));
      expect(problems.filter((m) => m.problems.length > 0)).toEqual([]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('spawn duration', () => {
  it('is a histogram by outcome from the fleet counters, with cumulative buckets, _sum and _count', async () => {
    const home = await mkdtemp(join(tmpdir(), 'fleet-metrics-'));
    try {
      const fleet = new FleetManager({ home, persist: false });
      fleet.counters.spawned('ok', 0.3);
      fleet.counters.spawned('ok', 2);
      fleet.counters.spawned('failed', 40);
      fleet.counters.spawned('refused');
      const text = await createFleetMetrics(fleet).render();
      const value = (series: string) => Number(text.split('\n').find((l) => l.startsWith(`llmspell_fleet_spawn_duration_seconds_${series} `))?.split(' ').at(-1));
      expect(text).toMatch(/^# TYPE llmspell_fleet_spawn_duration_seconds histogram$/m);
      expect([value('bucket{outcome="ok",le="0.25"}'), value('bucket{outcome="ok",le="0.5"}'), value('bucket{outcome="ok",le="2.5"}'), value('bucket{outcome="ok",le="+Inf"}')]).toEqual([0, 1, 2, 2]);
      expect(value('sum{outcome="ok"}')).toBeCloseTo(2.3);
      expect(value('count{outcome="ok"}')).toBe(2);
      expect([value('bucket{outcome="failed",le="30"}'), value('bucket{outcome="failed",le="60"}'), value('count{outcome="failed"}')]).toEqual([0, 1, 1]);
      expect(text.split('\n').filter((l) => l.startsWith('llmspell_fleet_spawn_duration_seconds') && l.includes('refused'))).toEqual([]);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('countByState', () => {
  const b = (state: ListedBackend['state'], runtime: string) => ({ state, requirement: { runtime, provider: 'p' } }) as ListedBackend;
  it('counts by state, runtime and provider', () => {
    expect(countByState([b('ready', 'lua'), b('ready', 'lua'), b('busy', 'lua'), b('ready', 'python')])).toEqual([
      { labels: { state: 'ready', runtime: 'lua', provider: 'p' }, count: 2 },
      { labels: { state: 'busy', runtime: 'lua', provider: 'p' }, count: 1 },
      { labels: { state: 'ready', runtime: 'python', provider: 'p' }, count: 1 },
    ]);
  });
});
