import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendProcess } from '../src/fleet/backend-process.js';
import { JupyterClient } from '../src/wire/client.js';
import { executeCell } from '../src/wire/execute.js';
import { waitForReady } from '../src/wire/ready.js';
import { bareRelayRoundTrips } from './bare-relay.js';
import { firstResultReport } from './first-result.js';
import { sharedRouterReport } from './shared-router.js';
import { fleetScaleReport } from './fleet-scale.js';
import { hopCostTable } from './hop-cost.js';
import { llmspellRows } from './llmspell.js';
import { allocatePorts } from '../src/fleet/ports.js';
import { percentile, ratio, table } from './stats.js';
import { launch, python, root, roundTrips, routerArgv, routerEnv } from './harness.js';

/**
 * Direct vs routed, in the same run, against the same kind of backend. The router is launched
 * the way Jupyter launches a kernel (it writes nothing; we write its connection file) and is
 * configured to start the backend itself, so the routed numbers include every hop.
 */
const fastPeer = join(root, 'dist', 'bench', 'fast-peer.js');
const quick = process.argv.includes('--quick');
/** Only the time-to-first-result tables (issue #12), which take under a minute. */
const firstResultOnly = process.argv.includes('--first-result');
/** Only the shared router host's tables (kernel stub: starts and memory per notebook), a few minutes. */
const sharedOnly = process.argv.includes('--shared');
/** Only the fleet-at-scale tables (issue #9): the manager's cost with 1 to 20 backends, about three minutes. */
const fleetScaleOnly = process.argv.includes('--fleet-scale');
/** Only the relay table against ipykernel and the fast peer, and the bare relay floor (issue #12 item 4): about a minute. */
const relayOnly = process.argv.includes('--relay');
const N_INFO = quick ? 100 : 1000;
const N_EXEC = quick ? 50 : 300;
const N_LINES = quick ? 5000 : 20000;
const N_FLOOD = quick ? 20000 : 200000;

interface Target { name: string; argv: string[] }
const ipykernel: Target = { name: 'ipykernel', argv: [python, '-m', 'ipykernel_launcher', '-f', '{connection_file}'] };
const peer: Target = { name: 'fast-peer', argv: [process.execPath, fastPeer, '{connection_file}'] };

/** Starts `target` directly, or behind a router that starts it. */
async function start(dir: string, target: Target, routed: boolean): Promise<{ proc: BackendProcess; client: JupyterClient }> {
  let proc: BackendProcess;
  if (!routed) {
    proc = await launch(dir, `direct-${target.name}`, target.argv);
  } else {
    const home = join(dir, `home-${target.name}`);
    const config = join(dir, `fleet-${target.name}.toml`);
    await writeFile(config, `default_runtime = "bench"\ndefault_provider = "none"\n[runtimes.bench]\nargv = ${JSON.stringify(target.argv)}\n[providers.none]\n`);
    proc = await launch(dir, `routed-${target.name}`, routerArgv, { env: routerEnv(home, config) });
  }
  // shell and iopub are all a notebook needs here; no replay guard, as the relay is what is measured.
  const client = new JupyterClient({ connection: proc.connection, channels: ['shell', 'iopub'], replayGuard: false });
  await waitForReady(client, { timeoutMs: 60_000 });
  return { proc, client };
}

interface Measure { infoP50: number; infoP99: number; execP50: number; execP99: number; rate: number; lost: number; outOfOrder: number }
type Mode = 'direct' | 'routed';
/** Round trips are taken in blocks of this many, direct and routed by turns (see interleaved). */
const BLOCK = 25;

/**
 * `n` round trips on each client, in blocks of BLOCK taken by turns, so that both columns see
 * the same load on this shared machine: measured one after the other, the ratio moved by
 * ±30 % with whatever else ran meanwhile.
 */
async function interleaved(n: number, clients: Record<Mode, JupyterClient>, once: (c: JupyterClient) => Promise<unknown>): Promise<Record<Mode, number[]>> {
  const times: Record<Mode, number[]> = { direct: [], routed: [] };
  for (let done = 0; done < n; done += BLOCK) {
    const m = Math.min(BLOCK, n - done);
    for (const mode of ['direct', 'routed'] as const) times[mode].push(...(await roundTrips(m, () => once(clients[mode]))));
  }
  for (const mode of ['direct', 'routed'] as const) times[mode].sort((a, b) => a - b);
  return times;
}

async function flood(client: JupyterClient, target: Target): Promise<Pick<Measure, 'rate' | 'lost' | 'outOfOrder'>> {
  const n = target === peer ? N_FLOOD : N_LINES;
  const code = target === peer ? `flood ${n} 100` : `import sys\nfor i in range(${n}):\n    sys.stdout.write(f"{i}\\n"); sys.stdout.flush()`;
  let next = 0;
  let outOfOrder = 0;
  let messages = 0;
  let carry = '';
  const t = process.hrtime.bigint();
  await executeCell(client, code, { onOutput: (m) => {
    if (m.msgType !== 'stream') return;
    messages++;
    const text = carry + m.content<{ text: string }>().text;
    const lines = text.split('\n');
    carry = lines.pop() ?? '';
    for (const line of lines) {
      if (Number(line.split(' ')[0]) !== next) outOfOrder++;
      next++;
    }
  } });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  return { rate: messages / seconds, lost: n - next, outOfOrder };
}

async function compare(dir: string, target: Target): Promise<string[][]> {
  const started: Partial<Record<Mode, { proc: BackendProcess; client: JupyterClient }>> = {};
  const results: Record<Mode, Measure> = {} as never;
  try {
    for (const mode of ['direct', 'routed'] as const) started[mode] = await start(dir, target, mode === 'routed');
    const clients = { direct: started.direct!.client, routed: started.routed!.client };
    for (const c of Object.values(clients)) await roundTrips(20, () => c.request('kernel_info_request', {})); // warm-up
    const info = await interleaved(N_INFO, clients, (c) => c.request('kernel_info_request', {}));
    const noop = target === peer ? 'noop' : 'pass';
    const exec = await interleaved(N_EXEC, clients, (c) => executeCell(c, noop));
    for (const mode of ['direct', 'routed'] as const) {
      results[mode] = {
        infoP50: percentile(info[mode], 50), infoP99: percentile(info[mode], 99),
        execP50: percentile(exec[mode], 50), execP99: percentile(exec[mode], 99),
        ...(await flood(clients[mode], target)),
      };
    }
  } finally {
    for (const s of Object.values(started)) {
      s.client.close();
      await s.proc.stop();
    }
  }
  const d = results.direct;
  const r = results.routed;
  const ms = (x: number) => x.toFixed(3);
  return [
    [target.name, 'kernel_info p50 (ms)', ms(d.infoP50), ms(r.infoP50), ratio(r.infoP50, d.infoP50)],
    [target.name, 'kernel_info p99 (ms)', ms(d.infoP99), ms(r.infoP99), ratio(r.infoP99, d.infoP99)],
    [target.name, 'execute p50 (ms)', ms(d.execP50), ms(r.execP50), ratio(r.execP50, d.execP50)],
    [target.name, 'execute p99 (ms)', ms(d.execP99), ms(r.execP99), ratio(r.execP99, d.execP99)],
    [target.name, 'iopub stream msgs/s', d.rate.toFixed(0), r.rate.toFixed(0), ratio(r.rate, d.rate)],
    [target.name, 'lines lost / out of order', `${d.lost} / ${d.outOfOrder}`, `${r.lost} / ${r.outOfOrder}`, r.lost === 0 && r.outOfOrder === 0 ? 'zero loss' : 'LOSS'],
  ];
}

async function relayTable(dir: string): Promise<string> {
  const rows = [...(await compare(dir, ipykernel)), ...(await compare(dir, peer))];
  if (!relayOnly) rows.push(...(await llmspellRows(dir, { nInfo: N_INFO, nExec: N_EXEC })));
  const ms = (x: number) => x.toFixed(3);
  for (const [variant, name] of [['plain', 'bare zeromq.js relay'], ['strings', 'bare relay, frames as strings'], ['ipc', 'bare relay, peer over ipc'], ['strings+ipc', 'bare relay, strings, peer over ipc']] as const) {
    const [a, b] = (await allocatePorts('127.0.0.1', 2)) as [number, number];
    const bare = await bareRelayRoundTrips(N_INFO, [a, b], variant);
    rows.push(
      [name, 'echo p50 (ms)', ms(percentile(bare.direct, 50)), ms(percentile(bare.relayed, 50)), ratio(percentile(bare.relayed, 50), percentile(bare.direct, 50))],
      [name, 'echo p99 (ms)', ms(percentile(bare.direct, 99)), ms(percentile(bare.relayed, 99)), ratio(percentile(bare.relayed, 99), percentile(bare.direct, 99))],
    );
  }
  // The same relay with curve on both hops to the peer (runtimes.X.curve = true): compare with the plain rows.
  const [c, d] = (await allocatePorts('127.0.0.1', 2)) as [number, number];
  const curve = await bareRelayRoundTrips(N_INFO, [c, d], 'curve');
  rows.push(['bare relay, curve to the peer', 'echo p50 (ms)', ms(percentile(curve.direct, 50)), ms(percentile(curve.relayed, 50)), ratio(percentile(curve.relayed, 50), percentile(curve.direct, 50))]);
  return table(['backend', 'metric', 'direct', 'routed', 'routed/direct'], rows);
}

const dir = await mkdtemp(join(tmpdir(), 'llmspell-fleet-bench-'));
try {
  const only = firstResultOnly || fleetScaleOnly || relayOnly || sharedOnly;
  if (!only || relayOnly) {
    process.stdout.write((await relayTable(dir)) + '\n\n');
    process.stdout.write((await hopCostTable(dir, { n: quick ? 200 : 1000 })) + '\n\n');
  }
  if (!only || firstResultOnly) process.stdout.write((await firstResultReport(join(dir, 'first-result'), { runs: 5 })) + '\n\n');
  if (!only || sharedOnly) process.stdout.write((await sharedRouterReport(join(dir, 'shared-router'), { runs: 5 })) + '\n\n');
  if (!only || fleetScaleOnly) process.stdout.write((await fleetScaleReport(join(dir, 'fleet-scale'), { windowMs: quick ? 4000 : 10_000 })) + '\n');
} finally {
  await rm(dir, { recursive: true, force: true });
}
