/**
 * A real Prometheus (Debian's, installed by scripts/setup.sh) scrapes a real manager whose
 * /metrics needs the token ([http] metrics_auth = true) on a port fleet.toml fixes; the test
 * asks Prometheus's own query API for the backend it spawned and finds its memory. promtool
 * lints what the manager exports; examples/prometheus (scrape config, alert rules) loads.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
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

let jenv: JupyterEnv | undefined;
let home = '';
let env: NodeJS.ProcessEnv = {};
let prometheus: ChildProcess | undefined;

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
  it('finds the spawned backend with its memory through Prometheus query API; promtool finds no naming problem', async () => {
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

    const exposition = await (await fetch(`${info.url}/metrics`, { headers: { authorization: `Bearer ${info.token}` } })).text();
    const lint = spawn(PROMTOOL, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let lintOut = '';
    lint.stdout.on('data', (d: Buffer) => (lintOut += d.toString()));
    lint.stderr.on('data', (d: Buffer) => (lintOut += d.toString()));
    lint.stdin.end(exposition);
    const lintCode = await new Promise((r) => lint.once('exit', r));
    expect({ lintCode, lintOut }).toEqual({ lintCode: 0, lintOut: '' });

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
    // The example alert rules load and evaluate against the real series without error.
    const rules = await until(async () => {
      const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`);
      const body = (await res.json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } };
      const all = body.data.groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health === 'ok') ? all : undefined;
    }, 'the example alert rules to be evaluated');
    expect(rules.map((r) => r.name).sort()).toEqual(['LlmspellFleetBackendDied', 'LlmspellFleetBackendMemoryHigh', 'LlmspellFleetManagerDown', 'LlmspellFleetRestartLoop']);
    const { stdout: example } = await run(PROMTOOL, ['check', 'config', join(EXAMPLE, 'prometheus.yml')]);
    expect(example).toMatch(/SUCCESS: .*prometheus\.yml is valid/);
    // The scrape itself was authorised and healthy.
    const up = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=up`);
    expect(((await up.json()) as { data: { result: { value: [number, string] }[] } }).data.result.map((r) => r.value[1])).toEqual(['1']);
  });
});
