/**
 * A real Prometheus (Debian's, installed by scripts/setup.sh) scrapes a real manager whose
 * /metrics needs the token ([http] metrics_auth = true) on a port fleet.toml fixes; the test
 * asks Prometheus's own query API for the backend it spawned and finds its memory. promtool
 * lints what the manager exports; examples/prometheus (scrape config, alert rules) loads.
 * A real router relays N cells to ipykernel and exits: its counts (reported to the manager as it
 * leaves) are still in /metrics and in Prometheus afterwards.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { CLI, writeClientConnectionFile } from '../helpers/fleet-env.js';
import { shutdown, TestClient, track, within } from '../helpers/relay.js';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import type { ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { allocatePorts } from '../../src/fleet/ports.js';
import { makeJupyterEnv, REPO_ROOT, type JupyterEnv } from '../helpers/e2e.js';
import { standinFleet } from '../helpers/fleet-env.js';

const run = promisify(execFile);
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const EXAMPLE = join(REPO_ROOT, 'examples', 'prometheus');
const ALERTS = join(EXAMPLE, 'alerts.yml');
/** Cells the router relays before it exits. */
const N = 5;

let jenv: JupyterEnv | undefined;
let home = '';
let env: NodeJS.ProcessEnv = {};
let prometheus: ChildProcess | undefined;

/** Pure: the value of the sample `name{labels...}` in an exposition (labels matched as a subset), or undefined. */
function sample(exposition: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of exposition.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const has = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => has[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** A router as Jupyter starts it, on the fleet (python = ipykernel); it relays N cells, then is shut down and exits. */
async function relayCellsAndExit(jenv: JupyterEnv, fleetEnv: NodeJS.ProcessEnv): Promise<void> {
  const { file, info } = await writeClientConnectionFile(jenv, 'metrics');
  const env: NodeJS.ProcessEnv = { ...fleetEnv, LLMSPELL_RUNTIME: 'python', LLMSPELL_PROVIDER: 'openai', JPY_PARENT_PID: String(process.pid) };
  delete env.LLMSPELL_FLEET_MODE;
  const router = track(spawn(process.execPath, [CLI, 'router', '--connection-file', file], { env, stdio: ['ignore', 'pipe', 'pipe'] }), info);
  const client = new TestClient(info);
  let passed = false;
  try {
    await client.waitReady(60_000);
    for (let i = 0; i < N; i++) {
      const { msgId, reply } = client.execute(`print(${i})`);
      const idle = client.idle(msgId);
      expect((await within(reply, 30_000, `execute_reply ${i}`)).msg.content<{ status: string }>().status).toBe('ok');
      await within(idle, 30_000, `idle after cell ${i}`);
    }
    passed = true;
  } finally {
    // Its counts reach the manager as it releases the backend, before it exits.
    await shutdown(client, router, 'router', !passed);
  }
}

async function until<T>(probe: () => Promise<T | undefined>, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

afterEach(async () => {
  if (prometheus !== undefined && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus?.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  prometheus = undefined;
  const client = await ManagerClient.connect({ home, env, autostart: false }).catch(() => undefined);
  if (client !== undefined) {
    await client.request({ op: 'shutdown' }).catch(() => undefined);
    await client.closed;
  }
  await jenv?.cleanup();
});

describe('Prometheus scrapes the fleet manager', () => {
  it('finds the spawned backend with its memory through Prometheus query API, and the relay totals of a router that exited; promtool finds no naming problem', async () => {
    expect(existsSync(PROMETHEUS) && existsSync(PROMTOOL), `${PROMETHEUS} / ${PROMTOOL} missing: run scripts/setup.sh`).toBe(true);
    jenv = await makeJupyterEnv();
    const [managerPort, promPort] = (await allocatePorts('127.0.0.1', 2)) as [number, number];
    ({ home, env } = await standinFleet(jenv, { top: ['linger_seconds = 600', '[http]', `listen = "127.0.0.1:${managerPort}"`, 'metrics_auth = true'] }));
    const client = await ManagerClient.connect({ home, env, autostart: true });
    await client.request<ManagerInfo>({ op: 'ping' });
    client.close();
    const info = JSON.parse(await readFile(join(home, 'http.json'), 'utf8')) as { url: string; token: string };
    expect(info.url).toBe(`http://127.0.0.1:${managerPort}`);
    // metrics_auth: no token, no metrics.
    expect((await fetch(`${info.url}/metrics`)).status).toBe(401);

    const spawned = await fetch(`${info.url}/api/v1/backends`, {
      method: 'POST',
      headers: { authorization: `Bearer ${info.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ runtime: 'standin', provider: 'openai', group: 'scraped' }),
    });
    expect(spawned.status).toBe(201);
    const { kernelId } = (await spawned.json()) as { kernelId: string };

    await relayCellsAndExit(jenv, { ...env, LLMSPELL_FLEET_HOME: home });
    const listed = (await (await fetch(`${info.url}/api/v1/backends`, { headers: { authorization: `Bearer ${info.token}` } })).json()) as { backends: { kernelId: string; requirement: { runtime: string }; attached: unknown[] }[] };
    const python = listed.backends.find((b) => b.requirement.runtime === 'python');
    // The router has left; its backend lingers (linger_seconds = 600) and so do its totals.
    expect(python?.attached).toEqual([]);
    const relayedTo = python!.kernelId;

    const exposition = await (await fetch(`${info.url}/metrics`, { headers: { authorization: `Bearer ${info.token}` } })).text();
    const lint = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let lintOut = '';
    lint.stdout.on('data', (d: Buffer) => (lintOut += d.toString()));
    lint.stderr.on('data', (d: Buffer) => (lintOut += d.toString()));
    lint.stdin.end(exposition);
    const lintCode = await new Promise((r) => lint.once('exit', r));
    expect({ lintCode, lintOut }).toEqual({ lintCode: 0, lintOut: '' });
    const of = { kernel_id: relayedTo, runtime: 'python', provider: 'openai' };
    expect(sample(exposition, 'llmspell_fleet_executions_total', { ...of, status: 'ok' })).toBeGreaterThanOrEqual(N);
    expect(sample(exposition, 'llmspell_fleet_execution_duration_seconds_count', of)).toBe(N);
    expect(sample(exposition, 'llmspell_fleet_execution_duration_seconds_bucket', { ...of, le: '+Inf' })).toBe(N);
    expect(sample(exposition, 'llmspell_fleet_execution_duration_seconds_sum', of)).toBeGreaterThan(0);
    for (const [channel, direction] of [['shell', 'to_backend'], ['shell', 'to_client'], ['iopub', 'to_client']] as const) {
      expect(sample(exposition, 'llmspell_fleet_messages_relayed_total', { ...of, channel, direction }), `${channel} ${direction}`).toBeGreaterThanOrEqual(N);
      expect(sample(exposition, 'llmspell_fleet_relayed_bytes_total', { ...of, channel, direction }), `${channel} ${direction} bytes`).toBeGreaterThan(0);
    }

    const tokenFile = join(jenv.dir, 'prometheus-token');
    await writeFile(tokenFile, info.token, { mode: 0o600 });
    const promConfig = join(jenv.dir, 'prometheus.yml');
    await writeFile(
      promConfig,
      [
        'global:',
        '  scrape_interval: 1s',
        '  evaluation_interval: 1s',
        'rule_files:',
        `  - ${ALERTS}`,
        'scrape_configs:',
        '  - job_name: llmspell-fleet',
        '    authorization:',
        `      credentials_file: ${tokenFile}`,
        '    static_configs:',
        `      - targets: ["127.0.0.1:${managerPort}"]`,
        '',
      ].join('\n'),
    );
    const { stdout: checked } = await run(PROMTOOL, ['check', 'config', promConfig]);
    expect(checked).toMatch(/SUCCESS/);
    prometheus = spawn(PROMETHEUS, [`--config.file=${promConfig}`, `--storage.tsdb.path=${join(jenv.dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], {
      stdio: 'ignore',
      env: jenv.env,
    });
    const query = encodeURIComponent(`llmspell_fleet_backend_resident_memory_bytes{kernel_id="${kernelId}"}`);
    const result = await until(async () => {
      const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${query}`);
      const body = (await res.json()) as { data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } };
      return body.data?.result?.[0];
    }, 'Prometheus to have scraped the backend');
    expect(result.metric).toMatchObject({ kernel_id: kernelId, runtime: 'standin', provider: 'openai', group: 'scraped', job: 'llmspell-fleet' });
    expect(Number(result.value[1])).toBeGreaterThan(1024 * 1024);
    // The relay totals of the router that exited, as Prometheus has them.
    const executions = await until(async () => {
      const q = encodeURIComponent(`llmspell_fleet_execution_duration_seconds_count{kernel_id="${relayedTo}"}`);
      const body = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${q}`)).json()) as { data?: { result?: { value: [number, string] }[] } };
      return body.data?.result?.[0]?.value[1];
    }, 'Prometheus to have the relay totals');
    expect(Number(executions)).toBe(N);
    // Its message rate, as a dashboard in Grafana would ask for it: messages the routers relayed on iopub.
    const relayed = await until(async () => {
      const q = encodeURIComponent(`sum(llmspell_fleet_messages_relayed_total{kernel_id="${relayedTo}",channel="iopub"})`);
      const body = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${q}`)).json()) as { data?: { result?: { value: [number, string] }[] } };
      return body.data?.result?.[0]?.value[1];
    }, 'Prometheus to have the relayed message totals');
    expect(Number(relayed)).toBeGreaterThanOrEqual(N);
    // And whether it is up: its heartbeat answered the scrape.
    const upNow = await until(async () => {
      const q = encodeURIComponent(`llmspell_fleet_backend_up{kernel_id="${kernelId}"}`);
      const body = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${q}`)).json()) as { data?: { result?: { value: [number, string] }[] } };
      return body.data?.result?.[0]?.value[1];
    }, 'Prometheus to have the backend up series');
    expect(upNow).toBe('1');
    // The example alert rules load and evaluate against the real series without error.
    const rules = await until(async () => {
      const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`);
      const body = (await res.json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
      const all = body.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health === 'ok') ? all : undefined;
    }, 'the example alert rules to be evaluated');
    expect(rules.map((r) => r.name).sort()).toEqual(['LlmspellFleetBackendDied', 'LlmspellFleetBackendDown', 'LlmspellFleetBackendMemoryHigh', 'LlmspellFleetBackendMemoryNearLimit', 'LlmspellFleetManagerDown', 'LlmspellFleetMessagesDropped', 'LlmspellFleetRestartLoop']);
    const { stdout: example } = await run(PROMTOOL, ['check', 'config', join(EXAMPLE, 'prometheus.yml')]);
    expect(example).toMatch(/SUCCESS: .*prometheus\.yml is valid/);
    // The scrape itself was authorised and healthy.
    const up = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=up`);
    expect(((await up.json()) as { data: { result: { value: [number, string] }[] } }).data.result.map((r) => r.value[1])).toEqual(['1']);
  });
});
