import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { BackendProcess } from '../src/fleet/backend-process.js';
import { ManagerClient } from '../src/fleet/manager/client.js';
import { ROUTER_KERNEL_ENV } from '../src/shared/extra-ca-certs.js';
import { applyKernelEnv } from '../src/shared/kernel-env.js';
import { managerTraceFile, type StartupPhase, type StartupTrace } from '../src/shared/startup-trace.js';
import { JupyterClient } from '../src/wire/client.js';
import { executeCell } from '../src/wire/execute.js';
import { requestUntilAnswered, waitForReady } from '../src/wire/ready.js';
import { COLD_BREAKDOWN_HEADER, coldBreakdownRows, type TracedColdStart } from './cold-breakdown.js';
import { launch, python, routerArgv } from './harness.js';
import { median, ratio, table } from './stats.js';

/**
 * Time to first result (issue #12): from "start kernel" to the first kernel_info reply and to
 * the first cell's result, as a notebook sees it, directly and through the router; and where a
 * router's own start-up time goes. Each figure is the median of `runs` starts.
 */
export const WARM_ATTACH_BUDGET_MS = 150;
export const IDLE_ROUTER_BUDGET_MB = 45;
/** Issue #12: a first result from the pool in under a third of a direct cold start. */
export const POOL_TARGET_RATIO = 1 / 3;
export const IPYKERNEL = [python, '-m', 'ipykernel_launcher', '-f', '{connection_file}'];
export const REQUIREMENT = { runtime: 'bench', provider: 'none' };

export interface Start {
  /** ms from just before the launch to the first kernel_info_reply. */
  kernelInfo: number;
  /** ms from just before the launch to the end of the first cell (execute_reply and idle). */
  result: number;
  spawnedAt: number;
  trace?: StartupTrace;
  /** Routed cold: the trace of the manager the router started. */
  managerTrace?: StartupTrace;
  memory?: Memory;
}

/** kB from /proc/PID/smaps_rollup: all resident pages, and the private (anonymous) ones a second process would not share. */
export interface Memory { rssKb: number; anonKb: number }

export const now = () => performance.timeOrigin + performance.now();

/**
 * As jupyter_client does it: connect at once, ask kernel_info until answered, wait for iopub,
 * run a cell. The client retries a refused connect every 10 ms instead of zeromq's 100, so what
 * is measured is the kernel (or router) and not the client's retry grid.
 */
export async function firstResult(proc: BackendProcess, spawnedAt: number): Promise<Start> {
  const client = new JupyterClient({ connection: proc.connection, channels: ['shell', 'iopub'], replayGuard: false, reconnectIntervalMs: 10 });
  try {
    const answer = await requestUntilAnswered(client, 'kernel_info_request', {}, { timeoutMs: 60_000 });
    if (answer === undefined || answer === 'gave-up') throw new Error('no kernel_info_reply within 60 s');
    const kernelInfo = now() - spawnedAt;
    await waitForReady(client, { timeoutMs: 60_000 });
    await executeCell(client, '1 + 1', { timeoutMs: 60_000 });
    return { kernelInfo, result: now() - spawnedAt, spawnedAt };
  } finally {
    client.close();
  }
}

export async function writeConfig(file: string, lingerSeconds: number, extra = ''): Promise<void> {
  const toml = `default_runtime = "bench"\ndefault_provider = "none"\nlinger_seconds = ${lingerSeconds}\n[runtimes.bench]\nargv = ${JSON.stringify(IPYKERNEL)}\n[providers.none]\n${extra}`;
  await writeFile(file, toml, { mode: 0o600 });
}

/** A router of the fleet (not --local), as the installed kernelspec runs it: with kernel.json's env, as jupyter_client applies it. */
export function fleetRouterEnv(home: string, config: string, trace: string): Record<string, string> {
  return { ...applyKernelEnv(ROUTER_KERNEL_ENV, process.env), LLMSPELL_FLEET_HOME: home, LLMSPELL_FLEET_CONFIG: config, LLMSPELL_FLEET_STARTUP_TRACE: trace };
}

/** The manager's own shutdown op: it stops every backend it runs, then exits. */
export async function shutdownManager(home: string): Promise<void> {
  const client = await ManagerClient.connect({ home, autostart: false }).catch(() => undefined);
  if (client === undefined) return;
  await client.request({ op: 'shutdown' }).catch(() => undefined);
  await client.closed;
}

function parseMemory(rollup: string): Memory {
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? Number.NaN);
  return { rssKb: kb('Rss'), anonKb: kb('Anonymous') };
}

export async function memoryOf(pid: number): Promise<Memory | undefined> {
  const rollup = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => undefined);
  return rollup === undefined ? undefined : parseMemory(rollup);
}

export async function directCold(dir: string, i: number): Promise<Start> {
  const spawnedAt = now();
  const proc = await launch(dir, `ttfr-direct-${i}`, IPYKERNEL);
  try {
    return await firstResult(proc, spawnedAt);
  } finally {
    await proc.stop();
  }
}

async function readTrace(file: string): Promise<StartupTrace | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as StartupTrace);
}

/** Nothing runs: the router starts the manager, which spawns the backend. */
async function routedCold(dir: string, i: number): Promise<Start> {
  const home = join(dir, `ttfr-cold-home-${i}`);
  const config = join(dir, `ttfr-cold-${i}.toml`);
  const traceFile = join(dir, `ttfr-cold-${i}.trace`);
  await writeConfig(config, 0);
  const spawnedAt = now();
  const proc = await launch(dir, `ttfr-cold-${i}`, routerArgv, { env: fleetRouterEnv(home, config, traceFile) });
  try {
    const start = await firstResult(proc, spawnedAt);
    start.trace = await readTrace(traceFile);
    start.managerTrace = await readTrace(managerTraceFile(traceFile));
    return start;
  } finally {
    await proc.stop();
    await shutdownManager(home);
  }
}

/** Direct and routed cold interleaved, so a change in how busy the machine is touches both alike. */
async function coldStarts(dir: string, runs: number): Promise<{ direct: Start[]; cold: Start[] }> {
  const direct: Start[] = [];
  const cold: Start[] = [];
  for (let i = 0; i < runs; i++) {
    direct.push(await directCold(dir, i));
    cold.push(await routedCold(dir, i));
  }
  return { direct, cold };
}

/** The manager and the backend already run (`llmspell-fleet find` started them): only the router starts. */
async function routedWarm(dir: string, runs: number): Promise<Start[]> {
  const home = join(dir, 'ttfr-warm-home');
  const config = join(dir, 'ttfr-warm.toml');
  await writeConfig(config, 600);
  const env = { ...process.env, LLMSPELL_FLEET_HOME: home, LLMSPELL_FLEET_CONFIG: config };
  const starts: Start[] = [];
  try {
    const manager = await ManagerClient.connect({ home, env });
    await manager.request({ op: 'find', requirement: REQUIREMENT });
    manager.close();
    for (let i = 0; i < runs; i++) {
      const traceFile = join(dir, `ttfr-warm-${i}.trace`);
      const spawnedAt = now();
      const proc = await launch(dir, `ttfr-warm-${i}`, routerArgv, { env: fleetRouterEnv(home, config, traceFile) });
      try {
        const start = await firstResult(proc, spawnedAt);
        start.memory = await memoryOf(proc.pid);
        start.trace = JSON.parse(await readFile(traceFile, 'utf8')) as StartupTrace;
        starts.push(start);
      } finally {
        await proc.stop();
      }
    }
  } finally {
    await shutdownManager(home);
  }
  return starts;
}

/** Until the fleet is exactly one ready spare: the pool refilled and the last run's backend is gone. */
export async function onlyASpare(manager: ManagerClient): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const list = await manager.request<{ state: string }[]>({ op: 'list' });
    if (list.length === 1 && list[0]!.state === 'spare') return;
    if (Date.now() > deadline) throw new Error(`the pool did not settle on one spare: ${JSON.stringify(list)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * `[pool]` keeps one spare (the manager started it ahead, untimed): only the router starts,
 * and its acquire takes the spare. linger 0: the taken backend stops with its router, and the
 * next run waits (untimed) for the replacement spare.
 */
async function routedPool(dir: string, runs: number): Promise<Start[]> {
  const home = join(dir, 'ttfr-pool-home');
  const config = join(dir, 'ttfr-pool.toml');
  await writeConfig(config, 0, '[pool]\n"bench/none" = 1\n');
  const env = { ...process.env, LLMSPELL_FLEET_HOME: home, LLMSPELL_FLEET_CONFIG: config };
  const starts: Start[] = [];
  let manager: ManagerClient | undefined;
  try {
    manager = await ManagerClient.connect({ home, env });
    for (let i = 0; i < runs; i++) {
      await onlyASpare(manager);
      const spawnedAt = now();
      const proc = await launch(dir, `ttfr-pool-${i}`, routerArgv, { env: fleetRouterEnv(home, config, join(dir, `ttfr-pool-${i}.trace`)) });
      try {
        starts.push(await firstResult(proc, spawnedAt));
      } finally {
        await proc.stop();
      }
    }
  } finally {
    manager?.close();
    await shutdownManager(home);
  }
  return starts;
}

/** Bare Node.js: how long `node -e 0` takes, and what an idle `node` holds resident. */
async function bareNode(runs: number, env: NodeJS.ProcessEnv): Promise<{ startMs: number; memory: Memory }> {
  const run = promisify(execFile);
  const starts: number[] = [];
  const memory: Memory[] = [];
  for (let i = 0; i < runs; i++) {
    const t = now();
    await run(process.execPath, ['-e', '0'], { env });
    starts.push(now() - t);
    const { stdout } = await run(process.execPath, ['-e', "setTimeout(() => { process.stdout.write(require('fs').readFileSync('/proc/self/smaps_rollup', 'utf8')); }, 200)"], { env });
    memory.push(parseMemory(stdout));
  }
  return { startMs: median(starts), memory: medianMemory(memory) };
}

/**
 * What a per-notebook process must hold at least, for the shared-relay design (README, "Light
 * routers"): the smallest Node.js process that binds a kernel's five sockets with zeromq and does
 * nothing else, and a process that only waits (sleep), the floor of a stub in any language.
 */
const ZEROMQ = createRequire(import.meta.url).resolve('zeromq');
const MINIMAL_NODE_KERNEL = `const z = require(${JSON.stringify(ZEROMQ)}); const s = [1, 2, 3, 4, 5].map(() => new z.Router()); Promise.all(s.map((x) => x.bind('tcp://127.0.0.1:*'))).then(() => process.stdout.write('bound\\n')); setInterval(() => {}, 1000);`;

async function residentOf(argv: string[], env: NodeJS.ProcessEnv, readyLine?: string): Promise<Memory> {
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    if (readyLine !== undefined) {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => b.toString().includes(readyLine) && resolve());
        child.once('exit', () => reject(new Error(`${argv[0]} exited before '${readyLine}'`)));
      });
    }
    await new Promise((r) => setTimeout(r, 300)); // idle: what start-up allocated and left
    const memory = await memoryOf(child.pid!);
    if (memory === undefined) throw new Error(`no /proc/${child.pid}/smaps_rollup for ${argv[0]}`);
    return memory;
  } finally {
    child.kill();
  }
}

async function stubs(runs: number, env: NodeJS.ProcessEnv): Promise<{ node: Memory; sleep: Memory }> {
  const node: Memory[] = [];
  const sleep: Memory[] = [];
  for (let i = 0; i < runs; i++) {
    node.push(await residentOf([process.execPath, '-e', MINIMAL_NODE_KERNEL], env, 'bound'));
    sleep.push(await residentOf(['sleep', '60'], env));
  }
  return { node: medianMemory(node), sleep: medianMemory(sleep) };
}

export function medianMemory(memory: readonly Memory[]): Memory {
  return { rssKb: median(memory.map((m) => m.rssKb)), anonKb: median(memory.map((m) => m.anonKb)) };
}

const PHASES: ReadonlyArray<[StartupPhase, string]> = [
  ['cli', 'module load: main.ts and its first modules (main.ts runs); CPU counted from process start'],
  ['action', 'module load: commander and the router command (zeromq, pino, config, router)'],
  ['planned', 'config, notebook and project files read; requirement resolved'],
  ['listening', 'client sockets bound'],
  ['manager', 'connected to the fleet manager'],
  ['acquired', 'manager found the running backend (acquire answered)'],
  ['ready', 'backend connected, kernel_info and iopub handshake done'],
];

/** The router's start-up, phase by phase: when each phase ended (ms since the launch) and what it took. */
function breakdown(warm: Start[], bare: { startMs: number }, bareNoCa: { startMs: number } | undefined): string[][] {
  const ms = (x: number) => x.toFixed(1);
  const traced = warm.filter((s): s is Start & { trace: StartupTrace } => s.trace !== undefined);
  const at = (s: Start & { trace: StartupTrace }, phase: StartupPhase | 'boot'): number =>
    s.trace.timeOrigin + (phase === 'boot' ? s.trace.bootstrapComplete : (s.trace.marks[phase] ?? Number.NaN)) - s.spawnedAt;
  const cpuAt = (s: Start & { trace: StartupTrace }, phase: StartupPhase | 'boot'): number => (phase === 'boot' ? 0 : (s.trace.cpu[phase] ?? Number.NaN));
  const rows: string[][] = [['node start (launch → node bootstrapped)', ms(median(traced.map((s) => at(s, 'boot')))), ms(median(traced.map((s) => at(s, 'boot')))), '']];
  let previous: StartupPhase | 'boot' = 'boot';
  for (const [phase, label] of PHASES) {
    const p = previous;
    rows.push([
      label,
      ms(median(traced.map((s) => at(s, phase)))),
      ms(median(traced.map((s) => at(s, phase) - at(s, p)))),
      ms(median(traced.map((s) => cpuAt(s, phase) - cpuAt(s, p)))),
    ]);
    previous = phase;
  }
  rows.push(['first kernel_info_reply at the client', ms(median(warm.map((s) => s.kernelInfo))), ms(median(traced.map((s) => s.kernelInfo - at(s, 'ready')))), '']);
  rows.push(['(for reference) bare `node -e 0`, start to exit', '', ms(bare.startMs), '']);
  if (bareNoCa) rows.push(['(for reference) the same without NODE_EXTRA_CA_CERTS, set here', '', ms(bareNoCa.startMs), '']);
  return rows;
}

function poolRow(cells: string[], poolRatio: number): string[] {
  const verdict = poolRatio < POOL_TARGET_RATIO ? 'met' : 'over';
  return [...cells.slice(0, 3), `${cells[3]} (target < ${POOL_TARGET_RATIO.toFixed(2)}: ${verdict})`];
}

export async function firstResultReport(dir: string, options: { runs: number }): Promise<string> {
  const { runs } = options;
  await mkdir(dir, { recursive: true });
  const loadBefore = loadavg()[0]!;
  const { direct, cold } = await coldStarts(dir, runs);
  const warm = await routedWarm(dir, runs);
  const pool = await routedPool(dir, runs);
  const bare = await bareNode(runs, process.env);
  const { NODE_EXTRA_CA_CERTS: extraCa, ...withoutCa } = process.env;
  const bareNoCa = extraCa ? await bareNode(runs, withoutCa) : undefined;
  const stub = await stubs(runs, withoutCa);

  const ms = (x: number) => x.toFixed(0);
  const d = median(direct.map((s) => s.result));
  const row = (name: string, starts: Start[], infoNote = ''): string[] => {
    const result = median(starts.map((s) => s.result));
    return [name, ms(median(starts.map((s) => s.kernelInfo))) + infoNote, ms(result), ratio(result, d)];
  };
  const warmInfo = median(warm.map((s) => s.kernelInfo));
  const timing = table(['start (ipykernel, median of ' + runs + ')', 'first kernel_info (ms)', 'first result (ms)', 'result / direct cold'], [
    row('direct cold: ipykernel started, as jupyter_client does', direct),
    row('routed cold: the router starts the manager, which spawns the backend', cold),
    row('routed warm attach: manager and backend already running', warm, ` (budget ${WARM_ATTACH_BUDGET_MS}: ${warmInfo <= WARM_ATTACH_BUDGET_MS ? 'met' : 'over'})`),
    poolRow(row('routed from the pool: a spare ready, the router takes it', pool), median(pool.map((s) => s.result)) / d),
  ]);
  const phases = table(['router start-up, warm attach (median of ' + runs + ')', 'ends at (ms since launch)', 'takes (ms)', 'CPU (ms)'], breakdown(warm, bare, bareNoCa));
  const mb = (kb: number) => (kb / 1024).toFixed(1);
  const router = medianMemory(warm.flatMap((s) => (s.memory === undefined ? [] : [s.memory])));
  const memory = table(['resident memory (median of ' + runs + ')', 'RSS (MB)', 'of which private, anonymous (MB)'], [
    ['bare node, idle', mb(bare.memory.rssKb), mb(bare.memory.anonKb)],
    [
      `router after attach and its first cell, idle (RSS target ${IDLE_ROUTER_BUDGET_MB})`,
      `${mb(router.rssKb)} (${router.rssKb / 1024 <= IDLE_ROUTER_BUDGET_MB ? 'met' : 'over'})`,
      mb(router.anonKb),
    ],
    ['(shared-relay design) smallest Node.js per-notebook process: zeromq, five sockets bound', mb(stub.node.rssKb), mb(stub.node.anonKb)],
    ['(shared-relay design) a stub that only waits (`sleep`): the floor in any language', mb(stub.sleep.rssKb), mb(stub.sleep.anonKb)],
  ]);
  const traced = cold.flatMap((s): TracedColdStart[] => (s.trace === undefined ? [] : [{ spawnedAt: s.spawnedAt, kernelInfo: s.kernelInfo, router: s.trace, manager: s.managerTrace }]));
  const coldPhases = table(COLD_BREAKDOWN_HEADER.map((h, i) => (i === 1 ? `${h} (median of ${traced.length})` : h)), coldBreakdownRows(traced));
  const load = `load average (1 min) ${loadBefore.toFixed(2)} at the start, ${loadavg()[0]!.toFixed(2)} at the end`;
  return [load, timing, coldPhases, phases, memory].join('\n\n');
}
