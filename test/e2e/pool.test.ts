/**
 * The pre-warmed pool (issue #12) with real ipykernel spares: the manager fills `[pool]` by
 * itself, runs each spare's startup code before offering it, a router's first request takes
 * the spare (its cell sees what the startup code defined, in the pool's directory), a
 * replacement appears, a manager killed with SIGKILL is replaced by one that adopts the spare
 * as a spare, and stop-all leaves nothing. A spare whose startup code fails is discarded and
 * said in the manager's log.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import { managerLogPath } from '../../src/fleet/manager/files.js';
import type { ListedBackend, ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { JupyterClient } from '../../src/wire/client.js';
import { executeCell } from '../../src/wire/execute.js';
import { waitForReady } from '../../src/wire/ready.js';
import { makeJupyterEnv, type JupyterEnv } from '../helpers/e2e.js';
import { CLI, stopFleetManager, writeClientConnectionFile } from '../helpers/fleet-env.js';
import { isRunning, waitForNoProcesses } from '../helpers/processes.js';

let jenv: JupyterEnv;
let managers: ManagerClient[] = [];

function writeConfig(pool: string[], top: string[] = []): Promise<void> {
  const toml = ['default_runtime = "python"', 'default_provider = "openai"', 'linger_seconds = 0', ...top, '[pool]', ...pool, ''].join('\n');
  return writeFile(join(jenv.homeDir, 'fleet.toml'), toml, { mode: 0o600 });
}

async function manager(): Promise<ManagerClient> {
  const client = await ManagerClient.connect({ home: jenv.homeDir, env: jenv.env, autostart: true, timeoutMs: 30_000 });
  managers.push(client);
  return client;
}

const list = (m: ManagerClient) => m.request<ListedBackend[]>({ op: 'list' });

/** Reads `list` until `check` holds (the pool works in the background: its state is what we wait for). */
async function listUntil(m: ManagerClient, check: (l: ListedBackend[]) => boolean, what: string, ms = 120_000): Promise<ListedBackend[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const now = await list(m);
    if (check(now)) return now;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; list: ${JSON.stringify(now.map((b) => [b.kernelId, b.state, b.spare]))}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function logUntil(pattern: RegExp, ms = 120_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = await readFile(managerLogPath(jenv.homeDir), 'utf8').catch(() => '');
    const line = text.split('\n').find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in the manager log:\n${text.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const spares = (l: ListedBackend[]) => l.filter((b) => b.state === 'spare');

/** A router started the way Jupyter starts the kernelspec, and a client of it. */
async function startRouter(): Promise<{ child: ChildProcess; client: JupyterClient; exited: Promise<unknown> }> {
  const { file, info } = await writeClientConnectionFile(jenv, 'pool');
  const env: NodeJS.ProcessEnv = { ...jenv.env, JPY_PARENT_PID: String(process.pid) };
  for (const name of ['LLMSPELL_FLEET_MODE', 'LLMSPELL_FLEET_CONFIG', 'LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER']) delete env[name];
  const child = spawn(process.execPath, [CLI, 'router', '--connection-file', file], { env, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return { child, client: new JupyterClient({ connection: info }), exited };
}

describe('the pre-warmed pool', () => {
  beforeEach(async () => {
    jenv = await makeJupyterEnv();
    managers = [];
  });

  afterEach(async () => {
    for (const m of managers) m.close();
    await stopFleetManager(jenv.homeDir);
    await waitForNoProcesses(jenv.dir, 60_000);
    await jenv.cleanup();
  });

  it('fills itself, hands its spare to the first request (startup code run, in the pool directory), replaces it, survives a manager SIGKILL as a spare, and stop-all empties it', async () => {
    const work = join(jenv.dir, 'work');
    await mkdir(work);
    const startup = "import os\nPOOL_MARK = 'warmed:' + os.getcwd()";
    await writeConfig([`"python/openai" = { count = 1, startup = ${JSON.stringify(startup)}, cwd = ${JSON.stringify(work)} }`]);
    const m = await manager();
    // Nobody asked for anything: the manager starts the spare by itself.
    const [spare] = spares(await listUntil(m, (l) => spares(l).length === 1, 'the first spare'));
    expect(spare).toMatchObject({ requirement: { runtime: 'python', provider: 'openai' }, attached: [], spare: 'ready', cwd: work });
    // Counted in the metrics (open on loopback by default).
    const { url } = JSON.parse(await readFile(join(jenv.homeDir, 'http.json'), 'utf8')) as { url: string };
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^llmspell_fleet_pool_spares\{runtime="python",provider="openai",state="ready"\} 1$/m);
    expect(metrics).toMatch(/^llmspell_fleet_backends\{state="spare",runtime="python",provider="openai"\} 1$/m);

    const router = await startRouter();
    try {
      await router.client.request('kernel_info_request', {}, { timeoutMs: 60_000 });
      // As jupyter_client does: iopub is connected before the first cell, or its output may be missed.
      await waitForReady(router.client, { timeoutMs: 60_000 });
      let printed = '';
      const reply = await executeCell(router.client, 'print(POOL_MARK)', { timeoutMs: 60_000, onOutput: (msg) => (printed += msg.content<{ text?: string }>().text ?? '') });
      expect(reply.content<{ status: string }>().status).toBe('ok');
      // The startup code ran in the spare before it was offered, in the pool's directory.
      expect(printed.trim()).toBe(`warmed:${work}`);
      const after = await listUntil(m, (l) => spares(l).length === 1 && l.length === 2, 'the replacement spare');
      const taken = after.find((b) => b.kernelId === spare!.kernelId);
      expect(taken, 'the router got the spare itself').toMatchObject({ attached: [expect.objectContaining({ pid: router.child.pid })] });
      expect(taken!.spare).toBeUndefined();
      expect(['ready', 'busy']).toContain(taken!.state);
      expect(spares(after)[0]!.kernelId).not.toBe(spare!.kernelId);
    } finally {
      await router.client.request('shutdown_request', { restart: false }, { channel: 'control', timeoutMs: 30_000 }).catch(() => router.child.kill('SIGKILL'));
      router.client.close();
      await router.exited;
    }

    // linger 0: the taken backend stops with its router; the spare stays.
    const [replacement] = spares(await listUntil(m, (l) => l.length === 1 && spares(l).length === 1, 'only the replacement spare left'));
    const { pid } = await m.request<ManagerInfo>({ op: 'ping' });
    process.kill(pid, 'SIGKILL');
    await m.closed;
    const next = await manager();
    const adopted = await list(next);
    expect(adopted.map((b) => [b.kernelId, b.state, b.pid])).toEqual([[replacement!.kernelId, 'spare', replacement!.pid]]);

    const { stopped } = await next.request<{ stopped: { kernelId: string }[] }>({ op: 'stop-all' });
    expect(stopped.map((s) => s.kernelId)).toEqual([replacement!.kernelId]);
    // The pool stays empty until the next request.
    expect(await list(next)).toEqual([]);
  }, 300_000);

  it('spares never hold the manager: with nothing else, it exits idle and stops them', async () => {
    await writeConfig(['"python/openai" = 1'], ['manager_idle_seconds = 1']);
    const m = await manager();
    const [spare] = spares(await listUntil(m, (l) => spares(l).length === 1, 'the spare'));
    const { pid } = await m.request<ManagerInfo>({ op: 'ping' });
    // Our connection was the last thing holding it.
    m.close();
    const deadline = Date.now() + 60_000;
    while (await isRunning(pid)) {
      if (Date.now() > deadline) throw new Error('the manager did not exit idle within 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await isRunning(spare!.pid), 'the spare was stopped with the manager').toBe(false);
    expect(await logUntil(/retiring a spare/)).toContain('manager idle exit');
  }, 300_000);

  it('discards a spare whose startup code fails, and says why in the manager log', async () => {
    await writeConfig([`"python/anthropic" = { count = 1, startup = "raise ValueError('boom from startup')" }`]);
    const m = await manager();
    const line = await logUntil(/was discarded: its startup code failed/);
    expect(line).toContain('python/anthropic');
    expect(line).toContain("ValueError: boom from startup");
    await listUntil(m, (l) => l.length === 0, 'the failed spare to be stopped');
  }, 300_000);
});
