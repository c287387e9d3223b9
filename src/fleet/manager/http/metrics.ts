/**
 * /metrics: the fleet in Prometheus terms, from a per-manager Registry (never prom-client's
 * global one, so two managers in one process, as in tests, never mix). Values are read at scrape
 * time from the manager's own state (list(), counters) and /proc; nothing samples in between.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { FleetManager } from '../fleet.js';
import { FamilySampler } from '../backend-usage.js';
import type { ListedBackend } from '../protocol.js';
import type { MetricsSource } from './http-server.js';
import { SPAWN_BUCKETS_SECONDS } from '../counters.js';
import { memoryBytes } from '../../limits/cgroup-layout.js';
import { TotalsHistogram, registerRelayMetrics } from './relay-metrics.js';

export const METRIC_PREFIX = 'llmspell_fleet_';

const BACKEND_LABELS = ['kernel_id', 'runtime', 'provider', 'group'] as const;
type BackendLabels = Record<(typeof BACKEND_LABELS)[number], string>;

function labelsOf(b: ListedBackend): BackendLabels {
  return { kernel_id: b.kernelId, runtime: b.requirement.runtime, provider: b.requirement.provider, group: b.requirement.group ?? '' };
}

/** Pure: backends counted by state, runtime and provider. */
export function countByState(backends: readonly ListedBackend[]): { labels: { state: string; runtime: string; provider: string }; count: number }[] {
  const counts = new Map<string, { labels: { state: string; runtime: string; provider: string }; count: number }>();
  for (const b of backends) {
    const labels = { state: b.state, runtime: b.requirement.runtime, provider: b.requirement.provider };
    const key = JSON.stringify(labels);
    const entry = counts.get(key) ?? { labels, count: 0 };
    entry.count++;
    counts.set(key, entry);
  }
  return [...counts.values()];
}

/**
 * Pure: what is wrong with a metric's name by Prometheus's naming rules (base units spelled
 * out, `_total` on counters and only there). Empty when nothing is.
 */
export function metricNameProblems(name: string, type: string): string[] {
  const problems: string[] = [];
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) problems.push('has characters outside [a-zA-Z0-9_:]');
  if (!name.startsWith(METRIC_PREFIX)) problems.push(`does not start with ${METRIC_PREFIX}`);
  if (type === 'counter' && !name.endsWith('_total')) problems.push('is a counter without the _total suffix');
  if (type !== 'counter' && name.endsWith('_total')) problems.push('ends in _total but is not a counter');
  const unit = /_(milliseconds|microseconds|nanoseconds|minutes|hours|kilobytes|megabytes|gigabytes|kb|mb|gb|ms|percent)(_|$)/.exec(name);
  if (unit) problems.push(`uses the unit ${unit[1]}; use base units (seconds, bytes, ratio)`);
  return problems;
}

export interface FleetMetrics extends MetricsSource {
  registry: Registry;
}

/** `families`: the manager's family measure, shared with list and usage (one reading per tick). */
export function createFleetMetrics(fleet: FleetManager, families: FamilySampler = new FamilySampler()): FleetMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: `${METRIC_PREFIX}manager_` });
  // prom-client names these gauges *_total, which Prometheus reserves for counters (promtool
  // flags them); the manager's handles say little the other process metrics do not.
  for (const gauge of ['nodejs_active_resources_total', 'nodejs_active_handles_total', 'nodejs_active_requests_total']) registry.removeSingleMetric(`${METRIC_PREFIX}manager_${gauge}`);
  const at = [registry];
  // One read of the fleet and /proc per scrape, shared by every per-backend metric.
  let scrape: Promise<{ all: ListedBackend[]; live: ListedBackend[]; usage: ReturnType<FamilySampler['read']>['usage'] }> | undefined;
  const current = () =>
    (scrape ??= Promise.resolve().then(() => {
      const all = fleet.list();
      const live = all.filter((b) => b.state !== 'dead');
      return { all, live, usage: families.read(live.map((b) => b.pid)).usage };
    }));

  new Gauge({
    name: `${METRIC_PREFIX}backends`,
    help: 'Backends by state (starting, ready, busy, restarting, stopping, dead, spare), runtime and provider',
    labelNames: ['state', 'runtime', 'provider'],
    registers: at,
    async collect() {
      this.reset();
      for (const { labels, count } of countByState((await current()).all)) this.set(labels, count);
    },
  });
  // Heartbeats only when a scrape asks for them (one echo per live backend, in parallel, 1 s at most).
  let heartbeats: Promise<Map<string, boolean>> | undefined;
  const answering = () => (heartbeats ??= fleet.health().then((reports) => new Map(reports.map((r) => [r.kernelId, r.processAlive && r.heartbeat]))));
  new Gauge({
    name: `${METRIC_PREFIX}backend_up`,
    help: "1 when the backend's process is alive and echoes its heartbeat within 1 s, else 0 (what GET /api/v1/health says)",
    labelNames: BACKEND_LABELS,
    registers: at,
    async collect() {
      this.reset();
      const [{ live }, up] = await Promise.all([current(), answering()]);
      for (const b of live) this.set(labelsOf(b), up.get(b.kernelId) === true ? 1 : 0);
    },
  });
  type Usage = Awaited<ReturnType<typeof current>>['usage'];
  /** One value per live backend; a counter (CPU seconds) is set from the kernel's own total, as a gauge is. */
  const perBackend = (name: string, help: string, value: (b: ListedBackend, usage: Usage) => number | undefined, kind: 'gauge' | 'counter' = 'gauge') => {
    const each = async (put: (labels: BackendLabels, v: number) => void) => {
      const { live, usage } = await current();
      for (const b of live) {
        const v = value(b, usage);
        if (v !== undefined) put(labelsOf(b), v);
      }
    };
    const common = { name: `${METRIC_PREFIX}${name}`, help, labelNames: BACKEND_LABELS, registers: at };
    if (kind === 'counter') {
      return new Counter({ ...common, async collect() { this.reset(); await each((labels, v) => this.inc(labels, v)); } });
    }
    return new Gauge({ ...common, async collect() { this.reset(); await each((labels, v) => this.set(labels, v)); } });
  };
  // A pod backend's local pid is its stand-in: its usage is not the kernel's, which is unknown without metrics-server.
  const standInFree = (b: ListedBackend, u: Usage) => (b.kube !== undefined ? undefined : u.get(b.pid));
  perBackend('backend_resident_memory_bytes', "Resident memory of the backend's process family (its group and what its members started in groups of their own)", (b, u) => standInFree(b, u)?.residentBytes);
  perBackend('backend_open_fds', "File descriptors the backend's process family holds open", (b, u) => standInFree(b, u)?.openFds);
  perBackend('backend_memory_limit_bytes', 'The memory limit in force for the backend (memory_mb in fleet.toml); no series for a backend without one', (b) => (b.limits === undefined ? undefined : memoryBytes(b.limits)));
  perBackend('backend_processes', "Processes in the backend's process family", (b, u) => standInFree(b, u)?.processes);
  perBackend('backend_attached_clients', 'Routers (notebook sessions) attached to the backend', (b) => b.attached.length);
  perBackend('backend_busy', '1 while the backend executes a request (its routers report iopub busy), else 0', (b) => (b.state === 'busy' ? 1 : 0));
  perBackend('backend_start_time_seconds', 'When the backend started, seconds since the epoch', (b) => b.startedAt / 1000);
  perBackend('backend_cpu_seconds_total', "User and system CPU time of the backend's process family", (b, u) => standInFree(b, u)?.cpuSeconds, 'counter');
  perBackend('backend_pod_restarts', "A pod backend's kernel container restarts, as the Kubernetes API says (pods only)", (b) => b.podStatus?.restarts);
  new Gauge({
    name: `${METRIC_PREFIX}pool_spares`,
    help: 'Spares of the pre-warmed pool by runtime and provider: warming (starting, running their startup code) or ready (offered)',
    labelNames: ['runtime', 'provider', 'state'],
    registers: at,
    async collect() {
      this.reset();
      for (const b of (await current()).live) {
        if (b.spare !== undefined) this.inc({ runtime: b.requirement.runtime, provider: b.requirement.provider, state: b.spare });
      }
    },
  });
  new Gauge({
    name: `${METRIC_PREFIX}event_streams`,
    help: 'Open /api/v1/events streams (each is one listener on the fleet)',
    registers: at,
    collect() {
      this.set(fleet.observerCount);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}spawns_total`,
    help: 'Backend starts (including those of restarts) by outcome: ok, failed, refused (max_backends reached)',
    labelNames: ['outcome'],
    registers: at,
    collect() {
      this.reset();
      for (const [outcome, n] of Object.entries(fleet.counters.snapshot().spawns)) this.inc({ outcome }, n);
    },
  });
  new TotalsHistogram(
    `${METRIC_PREFIX}spawn_duration_seconds`,
    'How long backend starts took, from launch to ready (ok) or to the failure (failed); refusals start nothing and are not here',
    registry,
    ['outcome'],
    SPAWN_BUCKETS_SECONDS,
    () => Object.entries(fleet.counters.snapshot().spawnSeconds).map(([outcome, d]) => ({ labels: { outcome }, buckets: d.buckets, sumSeconds: d.sumSeconds })),
  );
  new Counter({
    name: `${METRIC_PREFIX}restarts_total`,
    help: 'Backends replaced by a restart',
    registers: at,
    collect() {
      this.reset();
      this.inc(fleet.counters.snapshot().restarts);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}backend_exits_total`,
    help: 'Backend processes that ended, by reason (exited, signalled: on their own; stopped: stopped by the fleet; culled: idle_cull_seconds; memory-limit, pids-limit, cpu-time-limit: ended by a limit)',
    labelNames: ['reason'],
    registers: at,
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(fleet.counters.snapshot().exits)) this.inc({ reason }, n);
    },
  });
  registerRelayMetrics(registry, METRIC_PREFIX, () => fleet.relay.all());

  return {
    registry,
    contentType: registry.contentType,
    async render() {
      scrape = undefined;
      heartbeats = undefined;
      try {
        return await registry.metrics();
      } finally {
        scrape = undefined;
        heartbeats = undefined;
      }
    },
  };
}
