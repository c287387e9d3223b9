/**
 * The manager's read-mostly chores: `list` (with memory), `health` (process and heartbeat),
 * and `cleanup` (dead entries, connection and temporary files, and containers nobody owns).
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sweepContainers } from '../launchers/engine.js';
import { backendDir } from '../paths.js';
import type { FleetConfig } from '../types.js';
import type { ManagedBackend } from './entry.js';
import { sweepFleetPods } from './kube-sweep.js';
import { processesMentioning, rssBytes } from './proc.js';
import type { BackendRecord, CleanupReport, HealthReport } from './protocol.js';

export type { CleanupReport } from './protocol.js';

/** A temporary file this old was left by a writer that died between write and rename. */
const TMP_MAX_AGE_MS = 60_000;

/** Records with memory; `state` is still the lifecycle (conditions.ts turns it into what `list` shows). */
function list(backends: Iterable<ManagedBackend>): (BackendRecord & { rssBytes?: number })[] {
  return [...backends].map((b) => {
    // A pod backend's pid is its local stand-in's: its memory is not the backend's.
    const rss = b.state === 'exited' || b.init.kube !== undefined ? undefined : rssBytes(b.pid);
    return rss === undefined ? b.record() : { ...b.record(), rssBytes: rss };
  });
}

async function health(backends: Iterable<ManagedBackend>, timeoutMs = 1000): Promise<HealthReport[]> {
  return Promise.all(
    [...backends].map(async (b) => {
      const processAlive = b.alive;
      // The probe (zeromq) loads on first use, not with the manager (see launch.ts).
      const heartbeatMs = processAlive ? await (await import('./probe.js')).pingHeartbeat(b.connection, timeoutMs) : undefined;
      const report: HealthReport = { kernelId: b.kernelId, pid: b.pid, processAlive, heartbeat: heartbeatMs !== undefined };
      if (heartbeatMs !== undefined) report.heartbeatMs = heartbeatMs;
      return report;
    }),
  );
}

/** Pure: the backends `stop ID|PORT` means: the one with that id, or any with that port. */
function matching<B extends { kernelId: string; ports(): number[] }>(backends: Iterable<B>, target: string): B[] {
  const port = /^\d+$/.test(target) ? Number(target) : undefined;
  return [...backends].filter((b) => b.kernelId === target || (port !== undefined && b.ports().includes(port)));
}

/**
 * Pure: which names in the backends dir are litter. A connection file is litter when no known
 * backend uses it and no process has it in its argv; a temporary file when it is old.
 */
export function litter(
  entries: readonly { name: string; path: string; ageMs: number }[],
  owned: ReadonlySet<string>,
  mentioned: (path: string) => boolean,
): string[] {
  return entries
    .filter((e) => {
      if (e.name.endsWith('.tmp')) return e.ageMs > TMP_MAX_AGE_MS;
      return e.name.endsWith('.json') && !owned.has(e.path) && !mentioned(e.path);
    })
    .map((e) => e.path);
}

async function cleanup(home: string, backends: Map<string, ManagedBackend>, options: { spawning: boolean; config?: FleetConfig | undefined }): Promise<CleanupReport> {
  const removed = [];
  for (const [id, b] of backends) {
    if (b.state !== 'starting' && !b.alive) {
      removed.push({ ...b.record(), state: 'exited' as const });
      b.release();
      backends.delete(id);
    }
  }
  // A backend being spawned has a connection file (and a container) before it has an entry: leave files alone then.
  const files = options.spawning ? [] : await removeLitter(home, backends);
  const live = new Set([...backends.values()].flatMap((b) => (b.init.container !== undefined ? [b.init.container.name] : [])));
  const containers = options.spawning ? [] : await sweepContainers(home, live, process.env.PATH);
  const pods = options.spawning ? [] : await sweepFleetPods(home, options.config, [...backends.values()]);
  return { removed, files, containers, ...(pods.length > 0 ? { pods } : {}) };
}

async function removeLitter(home: string, backends: Map<string, ManagedBackend>): Promise<string[]> {
  const owned = new Set([...backends.values()].map((b) => b.init.connectionFile));
  const entries = [];
  for (const dir of [backendDir(home), home]) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      // In the home itself only our registry's temporary files are candidates, never a user's file.
      if (dir === home && !(name.startsWith('registry.json.') && name.endsWith('.tmp'))) continue;
      const path = join(dir, name);
      try {
        const info = await stat(path);
        if (info.isFile()) entries.push({ name, path, ageMs: Date.now() - info.mtimeMs });
      } catch {
        // gone meanwhile
      }
    }
  }
  const gone = litter(entries, owned, (path) => processesMentioning(path).length > 0);
  await Promise.all(gone.map((path) => rm(path, { force: true })));
  return gone;
}

export const maintenance = { list, health, cleanup, matching };
