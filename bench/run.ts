import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BackendProcess } from '../src/fleet/backend-process.js';
import { JupyterClient } from '../src/wire/client.js';
import { executeCell } from '../src/wire/execute.js';
import { waitForReady } from '../src/wire/ready.js';
import { bareRelayRoundTrips } from './bare-relay.js';
import { firstResultReport } from './first-result.js';
import { fleetScaleReport } from './fleet-scale.js';
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
/** Only the fleet-at-scale tables (issue #9): the manager's cost with 1 to 20 backends, about three minutes. */
const fleetScaleOnly = process.argv.includes('--fleet-scale');
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

async function measure(client: JupyterClient, target: Target): Promise<Measure> {
  await roundTrips(20, () => client.request('kernel_info_request', {})); // warm-up
  const info = await roundTrips(N_INFO, () => client.request('kernel_info_request', {}));
  const noop = target === peer ? 'noop' : 'pass';
  const exec = await roundTrips(N_EXEC, () => executeCell(client, noop));
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
  return {
    infoP50: percentile(info, 50), infoP99: percentile(info, 99),
    execP50: percentile(exec, 50), execP99: percentile(exec, 99),
    rate: messages / seconds, lost: n - next, outOfOrder,
  };
}

async function compare(dir: string, target: Target): Promise<string[][]> {
  const results: Record<'direct' | 'routed', Measure> = {} as never;
  for (const mode of ['direct', 'routed'] as const) {
    const { proc, client } = await start(dir, target, mode === 'routed');
    try {
      results[mode] = await measure(client, target);
    } finally {
      client.close();
      await proc.stop();
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
  const rows = [...(await compare(dir, ipykernel)), ...(await compare(dir, peer)), ...(await llmspellRows(dir, { nInfo: N_INFO, nExec: N_EXEC }))];
  const [a, b] = (await allocatePorts('127.0.0.1', 2)) as [number, number];
  const bare = await bareRelayRoundTrips(N_INFO, [a, b]);
  const ms = (x: number) => x.toFixed(3);
  rows.push(
    ['bare zeromq.js relay', 'echo p50 (ms)', ms(percentile(bare.direct, 50)), ms(percentile(bare.relayed, 50)), ratio(percentile(bare.relayed, 50), percentile(bare.direct, 50))],
    ['bare zeromq.js relay', 'echo p99 (ms)', ms(percentile(bare.direct, 99)), ms(percentile(bare.relayed, 99)), ratio(percentile(bare.relayed, 99), percentile(bare.direct, 99))],
  );
  // The same relay with curve on its back hop (runtimes.X.curve = true): compare with the rows above.
  const [c, d] = (await allocatePorts('127.0.0.1', 2)) as [number, number];
  const curve = await bareRelayRoundTrips(N_INFO, [c, d], { curve: true });
  rows.push(['bare zeromq.js relay, curve on the back hop', 'echo p50 (ms)', ms(percentile(curve.direct, 50)), ms(percentile(curve.relayed, 50)), ratio(percentile(curve.relayed, 50), percentile(bare.relayed, 50)) + ' of clear relayed']);
  return table(['backend', 'metric', 'direct', 'routed', 'routed/direct'], rows);
}

const dir = await mkdtemp(join(tmpdir(), 'llmspell-fleet-bench-'));
try {
  if (!firstResultOnly && !fleetScaleOnly) process.stdout.write((await relayTable(dir)) + '\n\n');
  if (!fleetScaleOnly) process.stdout.write((await firstResultReport(join(dir, 'first-result'), { runs: 5 })) + '\n\n');
  if (!firstResultOnly) process.stdout.write((await fleetScaleReport(join(dir, 'fleet-scale'), { windowMs: quick ? 4000 : 10_000 })) + '\n');
} finally {
  await rm(dir, { recursive: true, force: true });
}
