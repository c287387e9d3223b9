import { mkdir, readdir, readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { BackendProcess } from '../src/fleet/backend-process.js';
import { ManagerClient } from '../src/fleet/manager/client.js';
import { JupyterClient } from '../src/wire/client.js';
import { executeCell } from '../src/wire/execute.js';
import { waitForReady } from '../src/wire/ready.js';
import {
  IDLE_ROUTER_BUDGET_MB,
  POOL_TARGET_RATIO,
  REQUIREMENT,
  WARM_ATTACH_BUDGET_MS,
  directCold,
  firstResult,
  fleetRouterEnv,
  medianMemory,
  memoryOf,
  now,
  onlyASpare,
  shutdownManager,
  writeConfig,
  type Memory,
  type Start,
} from './first-result.js';
import { launch, root, routerArgv } from './harness.js';
import { median, ratio, table } from './stats.js';

/**
 * The shared router host (issue #12 items 1, 3 and 5): each notebook runs the ~1 MB kernel stub,
 * which hands its session to one per-user router host, as the installed kernelspec does when the
 * stub was built. The same starts as the first-result tables, through the stub, with their own
 * direct cold starts taken by turns, and what N open notebooks cost in memory.
 */
const stub = join(root, 'dist', 'native', 'kernel-stub');
const stubArgv = [stub, ...routerArgv];
/** The host stays up between the runs of one setting; each setting's host is stopped at its end. */
const HOST_LINGER = '[router]\nhost_linger_seconds = 600\n';
const NOTEBOOKS = [1, 10];

/** The router host serving `home`: the process whose command is `router-host` and whose env names that home. */
async function hostPids(home: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.split('\0').includes('router-host')) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(`LLMSPELL_FLEET_HOME=${home}`)) pids.push(Number(entry));
  }
  return pids;
}

/** SIGTERM to the home's host (it ends its sessions and exits), then until it is gone. */
async function stopHost(home: string): Promise<void> {
  for (const pid of await hostPids(home)) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      continue;
    }
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)) !== undefined) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

async function stubStart(dir: string, id: string, home: string, config: string): Promise<{ proc: BackendProcess; start: Start }> {
  const spawnedAt = now();
  const proc = await launch(dir, id, stubArgv, { env: fleetRouterEnv(home, config, join(dir, `${id}.trace`)) });
  try {
    return { proc, start: await firstResult(proc, spawnedAt) };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

async function once(dir: string, id: string, home: string, config: string): Promise<Start> {
  const { proc, start } = await stubStart(dir, id, home, config);
  await proc.stop();
  return start;
}

/** Until the fleet runs no backend: linger 0 stopped the last run's. */
async function noBackend(manager: ManagerClient): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await manager.request<unknown[]>({ op: 'list' })).length > 0) {
    if (Date.now() > deadline) throw new Error('the last run’s backend did not stop');
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface ColdRuns { direct: Start[]; cold: Start[]; services: Start[] }

/**
 * By turns: direct; through the stub with nothing running (the stub starts the host, which
 * starts the manager, which spawns the backend); through the stub with the fleet's services up
 * (manager and host running, as with `service install`, no backend: linger 0 stops each run's).
 */
async function coldStarts(dir: string, runs: number): Promise<ColdRuns> {
  const out: ColdRuns = { direct: [], cold: [], services: [] };
  const servicesHome = join(dir, 'shared-services-home');
  const servicesConfig = join(dir, 'shared-services.toml');
  await writeConfig(servicesConfig, 0, HOST_LINGER);
  const manager = await ManagerClient.connect({ home: servicesHome, env: { ...process.env, LLMSPELL_FLEET_HOME: servicesHome, LLMSPELL_FLEET_CONFIG: servicesConfig } });
  try {
    await once(dir, 'shared-services-warmup', servicesHome, servicesConfig); // starts the host, untimed
    for (let i = 0; i < runs; i++) {
      out.direct.push(await directCold(dir, 100 + i));
      const home = join(dir, `shared-cold-home-${i}`);
      const config = join(dir, `shared-cold-${i}.toml`);
      await writeConfig(config, 0, '[router]\nhost_linger_seconds = 0\n');
      try {
        out.cold.push(await once(dir, `shared-cold-${i}`, home, config));
      } finally {
        await shutdownManager(home);
        await stopHost(home);
      }
      await noBackend(manager);
      out.services.push(await once(dir, `shared-services-${i}`, servicesHome, servicesConfig));
    }
  } finally {
    manager.close();
    await shutdownManager(servicesHome);
    await stopHost(servicesHome);
  }
  return out;
}

/** Manager, backend and host running: only the stub starts. */
async function warmAttach(dir: string, runs: number): Promise<{ starts: Start[]; memory: string[][] }> {
  const home = join(dir, 'shared-warm-home');
  const config = join(dir, 'shared-warm.toml');
  await writeConfig(config, 600, HOST_LINGER);
  const starts: Start[] = [];
  const memory: string[][] = [];
  try {
    await once(dir, 'shared-warm-warmup', home, config);
    for (let i = 0; i < runs; i++) starts.push(await once(dir, `shared-warm-${i}`, home, config));
    for (const n of NOTEBOOKS) memory.push(await openNotebooks(dir, home, config, n));
  } finally {
    await shutdownManager(home);
    await stopHost(home);
  }
  return { starts, memory };
}

/**
 * `n` notebooks open on the one backend, each after its first cell, idle: every stub's RSS and
 * the host's, and what each notebook costs: (host + n stubs) / n.
 */
async function openNotebooks(dir: string, home: string, config: string, n: number): Promise<string[]> {
  const open: BackendProcess[] = [];
  try {
    for (let i = 0; i < n; i++) open.push((await stubStart(dir, `shared-mem-${n}-${i}`, home, config)).proc);
    const client = new JupyterClient({ connection: open[0]!.connection, channels: ['shell', 'iopub'], replayGuard: false });
    await waitForReady(client, { timeoutMs: 60_000 });
    await executeCell(client, '1 + 1', { timeoutMs: 60_000 });
    client.close();
    await new Promise((r) => setTimeout(r, 300)); // idle: what the sessions' start-up allocated and left
    const stubs = (await Promise.all(open.map((p) => memoryOf(p.pid)))).filter((m): m is Memory => m !== undefined);
    const hosts = (await Promise.all((await hostPids(home)).map((pid) => memoryOf(pid)))).filter((m): m is Memory => m !== undefined);
    if (hosts.length !== 1) throw new Error(`expected one router host for ${home}, found ${hosts.length}`);
    const s = medianMemory(stubs);
    const h = medianMemory(hosts);
    const mb = (kb: number) => (kb / 1024).toFixed(1);
    const per = { rssKb: (h.rssKb + n * s.rssKb) / n, anonKb: (h.anonKb + n * s.anonKb) / n };
    return [
      `${n} notebook${n === 1 ? '' : 's'} open (RSS target ${IDLE_ROUTER_BUDGET_MB} per notebook)`,
      mb(s.rssKb),
      mb(h.rssKb),
      `${mb(per.rssKb)} (${per.rssKb / 1024 <= IDLE_ROUTER_BUDGET_MB ? 'met' : 'over'})`,
      mb(per.anonKb),
    ];
  } finally {
    await Promise.all(open.map((p) => p.stop()));
  }
}

/** `[pool]` keeps one spare: only the stub starts, and the host's session takes the spare. */
async function fromPool(dir: string, runs: number): Promise<Start[]> {
  const home = join(dir, 'shared-pool-home');
  const config = join(dir, 'shared-pool.toml');
  await writeConfig(config, 0, `[pool]\n"bench/none" = 1\n${HOST_LINGER}`);
  const starts: Start[] = [];
  let manager: ManagerClient | undefined;
  try {
    manager = await ManagerClient.connect({ home, env: { ...process.env, LLMSPELL_FLEET_HOME: home, LLMSPELL_FLEET_CONFIG: config } });
    await onlyASpare(manager);
    await once(dir, 'shared-pool-warmup', home, config); // starts the host, untimed
    for (let i = 0; i < runs; i++) {
      await onlyASpare(manager);
      starts.push(await once(dir, `shared-pool-${i}`, home, config));
    }
  } finally {
    manager?.close();
    await shutdownManager(home);
    await stopHost(home);
  }
  return starts;
}

export async function sharedRouterReport(dir: string, options: { runs: number }): Promise<string> {
  const { runs } = options;
  await mkdir(dir, { recursive: true });
  const loadBefore = loadavg()[0]!;
  const cold = await coldStarts(dir, runs);
  const warm = await warmAttach(dir, runs);
  const pool = await fromPool(dir, runs);
  const ms = (x: number) => x.toFixed(0);
  const d = median(cold.direct.map((s) => s.result));
  const row = (name: string, starts: Start[], infoNote = '', resultNote = ''): string[] => {
    const result = median(starts.map((s) => s.result));
    return [name, ms(median(starts.map((s) => s.kernelInfo))) + infoNote, ms(result), ratio(result, d) + resultNote];
  };
  const verdict = (ok: boolean) => (ok ? 'met' : 'over');
  const warmInfo = median(warm.starts.map((s) => s.kernelInfo));
  const ratioOf = (starts: Start[]) => median(starts.map((s) => s.result)) / d;
  const timing = table([`start through the kernel stub (ipykernel, median of ${runs})`, 'first kernel_info (ms)', 'first result (ms)', 'result / direct cold'], [
    row('direct cold: ipykernel started, as jupyter_client does', cold.direct),
    row('shared cold, nothing running: the stub starts the host, which starts the manager', cold.cold, '', ` (target ≤ 1.15: ${verdict(ratioOf(cold.cold) <= 1.15)})`),
    row('shared cold, the fleet services running (manager and host up, no backend)', cold.services, '', ` (target ≤ 1.15: ${verdict(ratioOf(cold.services) <= 1.15)})`),
    row('shared warm attach: manager, backend and host running', warm.starts, ` (budget ${WARM_ATTACH_BUDGET_MS}: ${verdict(warmInfo <= WARM_ATTACH_BUDGET_MS)})`),
    row('shared from the pool: a spare ready', pool, '', ` (target < ${POOL_TARGET_RATIO.toFixed(2)}: ${verdict(ratioOf(pool) < POOL_TARGET_RATIO)})`),
  ]);
  const memory = table(['resident memory, shared router host (median)', 'each stub RSS (MB)', 'host RSS (MB)', 'per notebook RSS (MB)', 'per notebook private (MB)'], warm.memory);
  const load = `load average (1 min) ${loadBefore.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end`;
  return [load, timing, memory].join('\n\n');
}
