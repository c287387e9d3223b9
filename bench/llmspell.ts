import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeLlmspellIopub, LLMSPELL_ROUTING_ID } from '../src/adapters/llmspell/link.js';
import type { BackendProcess } from '../src/fleet/backend-process.js';
import { JupyterClient } from '../src/wire/client.js';
import { executeCell } from '../src/wire/execute.js';
import { waitForReady } from '../src/wire/ready.js';
import { cli, launch, root, roundTrips, routerArgv, routerEnv } from './harness.js';
import { percentile, ratio } from './stats.js';

/**
 * What the llmspell adapter adds per request, in the same run, against the llmspell test double
 * (test/fixtures/llmspell-double.mjs: llmspell's wire behaviour, cells in real Lua 5.4).
 * Direct is a client on llmspell's own sockets as the adapter's link is (routing id
 * inprocess_client, one-frame iopub decoded); llmspell sends no execute_reply, so there an
 * execute ends at llmspell's idle. Through the adapter (alone on tcp, then behind the router)
 * an execute ends at execute_reply and idle, as a notebook waits for both.
 */
const DOUBLE = join(root, 'test', 'fixtures', 'llmspell-double.mjs');
const CELL = 'return 1 + 1';
const WARM_UP = 20;

const doubleArgv = (connectionFile: string): string[] => [process.execPath, DOUBLE, 'kernel', 'start', '--port', '0', '--connection-file', connectionFile];
const adapterArgv = [process.execPath, cli, 'llmspell-adapter', '--connection-file', '{connection_file}', '--transport', 'tcp', '--', ...doubleArgv('{llmspell_connection_file}')];

interface Timings { info: number[]; exec: number[] }
interface Counts { nInfo: number; nExec: number }

/** Resolves the next idle status llmspell publishes; its parent_header is null, so any idle will do. */
function idleStatuses(client: JupyterClient): () => Promise<void> {
  let waiting: (() => void)[] = [];
  client.onIopub((m) => {
    if (m.msgType !== 'status' || m.content<{ execution_state?: string }>().execution_state !== 'idle') return;
    const wake = waiting;
    waiting = [];
    for (const resolve of wake) resolve();
  });
  return () => new Promise<void>((resolve) => waiting.push(resolve));
}

/** llmspell straight, as the adapter's link talks to it. */
async function direct(dir: string, counts: Counts): Promise<Timings> {
  const proc = await launch(dir, 'llmspell-direct', doubleArgv('{connection_file}'), { connection: 'kernel-writes' });
  const client = new JupyterClient({
    connection: proc.connection, routingId: LLMSPELL_ROUTING_ID, channels: ['shell', 'iopub'], decodeIopub: decodeLlmspellIopub, replayGuard: false,
  });
  const nextIdle = idleStatuses(client);
  const execute = async (): Promise<void> => {
    const idle = nextIdle();
    client.post('shell', 'execute_request', { code: CELL, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false });
    await idle;
  };
  try {
    await client.request('kernel_info_request', {}, { timeoutMs: 60_000 });
    // Statuses published before our subscription reached llmspell are lost (it publishes none for
    // kernel_info): run cells until one's idle arrives, as the adapter's own start-up does.
    let subscribed = false;
    for (let i = 0; i < 300 && !subscribed; i++) subscribed = await Promise.race([execute().then(() => true), sleep(200).then(() => false)]);
    if (!subscribed) throw new Error('llmspell double: no idle status on iopub within 60 s');
    return await measure(client, execute, counts);
  } finally {
    client.close();
    await proc.stop();
  }
}

/** The adapter alone (it starts the double itself), or the router in front of it. */
async function viaAdapter(dir: string, routed: boolean, counts: Counts): Promise<Timings> {
  let proc: BackendProcess;
  if (!routed) {
    proc = await launch(dir, 'llmspell-adapter', adapterArgv, { connection: 'kernel-writes' });
  } else {
    const config = join(dir, 'fleet-llmspell.toml');
    // isolate = "off": the adapter on tcp, as alone, so the two rows differ by the router only.
    const runtime = `[runtimes.bench]\nargv = ${JSON.stringify(doubleArgv('{connection_file}'))}\nadapter = "llmspell"\nisolate = "off"\nlanguage = "lua"\n`;
    await writeFile(config, `default_runtime = "bench"\ndefault_provider = "none"\n${runtime}[providers.none]\n`);
    proc = await launch(dir, 'llmspell-routed', routerArgv, { env: routerEnv(join(dir, 'home-llmspell'), config) });
  }
  const client = new JupyterClient({ connection: proc.connection, channels: ['shell', 'iopub'], replayGuard: false });
  try {
    await waitForReady(client, { timeoutMs: 60_000 });
    return await measure(client, () => executeCell(client, CELL), counts);
  } finally {
    client.close();
    await proc.stop();
  }
}

async function measure(client: JupyterClient, execute: () => Promise<unknown>, counts: Counts): Promise<Timings> {
  await roundTrips(WARM_UP, () => client.request('kernel_info_request', {}));
  const info = await roundTrips(counts.nInfo, () => client.request('kernel_info_request', {}));
  await roundTrips(WARM_UP, execute);
  return { info, exec: await roundTrips(counts.nExec, execute) };
}

/** routed/direct, then the milliseconds the extra hops add. */
function cost(routed: number, directMs: number): string {
  const added = routed - directMs;
  return `${ratio(routed, directMs)} (${added >= 0 ? '+' : ''}${added.toFixed(3)} ms)`;
}

/** Rows for bench/run.ts's table: direct llmspell vs the adapter alone and vs router + adapter. */
export async function llmspellRows(dir: string, counts: Counts): Promise<string[][]> {
  const d = await direct(dir, counts);
  const ms = (x: number) => x.toFixed(3);
  const rows: string[][] = [];
  for (const [name, routed] of [['llmspell double, adapter', false], ['llmspell double, router + adapter', true]] as const) {
    const r = await viaAdapter(dir, routed, counts);
    for (const [metric, pick, p] of [
      ['kernel_info p50 (ms)', 'info', 50], ['execute p50 (ms)', 'exec', 50], ['execute p99 (ms)', 'exec', 99],
    ] as const) {
      const [dv, rv] = [percentile(d[pick], p), percentile(r[pick], p)];
      rows.push([name, metric, ms(dv), ms(rv), cost(rv, dv)]);
    }
  }
  return rows;
}
