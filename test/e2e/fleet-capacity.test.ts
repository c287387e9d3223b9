/**
 * max_backends and idle culling with real kernels (ipykernel, tslab) through real routers and
 * the real (autostarted) fleet manager. Routers are started the way Jupyter starts a kernel;
 * the client is the project's wire client. Nothing here waits for a fixed time: each step
 * awaits an event (a reply, an iopub notice, a state the manager lists), and "a busy backend is
 * not culled" is judged when another backend, idle only since after the busy one went busy,
 * has been culled: the busy one's cull would have come first.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import { readHttpInfo } from '../../src/fleet/manager/http/http-file.js';
import type { BackendHandle, ListedBackend } from '../../src/fleet/manager/protocol.js';
import { isFleetError } from '../../src/shared/errors.js';
import type { WireMessage } from '../../src/wire/codec.js';
import { withJupyterEnv, type JupyterEnv } from '../helpers/e2e.js';
import { CLI, cli, writeClientConnectionFile } from '../helpers/fleet-env.js';
import { expectNothingLeft, shutdown, TestClient, track, within, type Proc } from '../helpers/relay.js';

const PYTHON = { runtime: 'python', provider: 'openai' };
const JAVASCRIPT = { runtime: 'javascript', provider: 'openai' };
const STEP_MS = 90_000;
const CULL_SECONDS = 4;

async function writeConfig(jenv: JupyterEnv, lines: string[]): Promise<void> {
  const toml = ['default_runtime = "python"', 'default_provider = "openai"', 'linger_seconds = 0', ...lines, ''].join('\n');
  await writeFile(join(jenv.homeDir, 'fleet.toml'), toml, { mode: 0o600 });
}

/** `llmspell-fleet router` for one requirement, as Jupyter runs the kernelspec. */
async function startRouter(jenv: JupyterEnv, requirement: { runtime: string; provider: string }): Promise<{ router: Proc; client: TestClient }> {
  const { file, info } = await writeClientConnectionFile(jenv, `${requirement.runtime}-${requirement.provider}`);
  const env: NodeJS.ProcessEnv = { ...jenv.env, JPY_PARENT_PID: String(process.pid) };
  for (const name of ['LLMSPELL_FLEET_MODE', 'LLMSPELL_FLEET_CONFIG', 'LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER']) delete env[name];
  const args = [CLI, 'router', '--connection-file', file, '--runtime', requirement.runtime, '--provider', requirement.provider];
  const router = track(spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] }), info);
  const client = new TestClient(router.info);
  await client.waitReady(STEP_MS);
  return { router, client };
}

interface Ran {
  reply: Record<string, unknown>;
  /** stream text, execute_result text/plain and error evalues of the cell, in order. */
  output: string;
}

/** One cell: its reply and what it showed. */
async function run(client: TestClient, code: string): Promise<Ran> {
  const { msgId, reply } = client.execute(code);
  // Before any message can arrive: iopub and shell are not ordered with each other.
  const idle = client.idle(msgId);
  let output = '';
  const off = client.onIopub(({ msg }) => {
    if (msg.parentHeader.msg_id !== msgId) return;
    const c = msg.content<{ text?: string; data?: Record<string, string>; evalue?: string }>();
    if (msg.msgType === 'stream') output += c.text ?? '';
    if (msg.msgType === 'execute_result') output += c.data?.['text/plain'] ?? '';
    if (msg.msgType === 'error') output += c.evalue ?? '';
  });
  try {
    const r = await within(reply, STEP_MS, `the reply to ${JSON.stringify(code)}`);
    await within(idle, STEP_MS, 'the idle status of the cell');
    return { reply: r.msg.content<Record<string, unknown>>(), output };
  } finally {
    off();
  }
}

/** The next stderr stream on iopub that says the backend was culled (the router's notice). */
function cullNotice(client: TestClient): Promise<string> {
  const isNotice = (m: WireMessage) => m.msgType === 'stream' && String(m.content<{ text?: string }>().text).includes('was culled');
  return client.nextIopub(isNotice).then((r) => String(r.msg.content<{ text: string }>().text));
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + STEP_MS;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Ends every router (and with linger 0 their backends) even after a failure; the env's cleanup
 * then finds nothing. After a failure the fleet's logs are printed: they say what the manager did.
 */
async function closeAll(jenv: JupyterEnv, routers: { router: Proc; client: TestClient }[], passed: boolean): Promise<void> {
  if (!passed) {
    const logs = join(jenv.homeDir, 'logs');
    for (const name of await readdir(logs).catch(() => [])) {
      const text = await readFile(join(logs, name), 'utf8').catch(() => '');
      console.error(`[e2e] ${name}:\n${text.slice(-6000)}`);
    }
  }
  for (const { router, client } of routers) await shutdown(client, router, 'router', !passed);
}

describe('max_backends and idle culling with real kernels through routers', () => {
  it('max_backends = 1: of two concurrent starts one is refused naming the holder; its cell says so; after `stop` it starts', async () => {
    await withJupyterEnv(async (jenv) => {
      await writeConfig(jenv, ['max_backends = 1']);
      const connect = () => ManagerClient.connect({ home: jenv.homeDir, env: jenv.env, autostart: true });
      const [a, b] = [await connect(), await connect()];
      const routers: { router: Proc; client: TestClient }[] = [];
      let passed = false;
      try {
        // Two requirements asked for at the same moment: exactly one may start.
        const results = await Promise.allSettled([
          a.request<BackendHandle>({ op: 'acquire', requirement: PYTHON, routerId: 'holder-python', pid: process.pid }),
          b.request<BackendHandle>({ op: 'acquire', requirement: JAVASCRIPT, routerId: 'holder-javascript', pid: process.pid }),
        ]);
        const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
        expect(started).toHaveLength(1);
        expect(refused).toHaveLength(1);
        const holder = started[0]!.record;
        const error = refused[0];
        if (!isFleetError(error)) throw error;
        expect(error.code).toBe('FLEET_FULL');
        const holderKey = `${holder.requirement.runtime}/${holder.requirement.provider}`;
        expect(error.message).toContain('max_backends = 1');
        expect(error.message).toContain(holderKey);
        const named = (error.context.holders as { kernelId?: string }[])[0];
        if (named?.kernelId !== undefined) expect(named.kernelId).toBe(holder.kernelId);
        expect((await a.request<ListedBackend[]>({ op: 'list' })).map((l) => l.kernelId)).toEqual([holder.kernelId]);

        // A notebook on the refused requirement: its cell shows the refusal, naming the running backend.
        const other = holder.requirement.runtime === 'python' ? JAVASCRIPT : PYTHON;
        const notebook = await startRouter(jenv, other);
        routers.push(notebook);
        const refusedCell = await run(notebook.client, '1+1');
        expect(refusedCell.reply).toMatchObject({ status: 'error', ename: 'FleetError' });
        for (const words of ['max_backends = 1', `kernel ${holder.kernelId} (${holderKey}, ready, 1 client)`, 'llmspell-fleet stop ID']) {
          expect(String(refusedCell.reply.evalue)).toContain(words);
          expect(refusedCell.output).toContain(words);
        }

        // The HTTP API refuses the same start with 409 and the code; /metrics counts every refusal.
        const http = await readHttpInfo(jenv.homeDir);
        if (http === undefined) throw new Error('the manager wrote no http.json');
        const auth = { authorization: `Bearer ${http.token}` };
        const res = await fetch(`${http.url}/api/v1/backends`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(other) });
        expect(res.status).toBe(409);
        expect(await res.json()).toMatchObject({ error: { code: 'FLEET_FULL', message: expect.stringContaining(`kernel ${holder.kernelId}`) as unknown } });
        const metrics = await (await fetch(`${http.url}/metrics`, { headers: auth })).text();
        // The concurrent acquire, the notebook's start (its first request and its cell) and the API call.
        expect(Number(/^llmspell_fleet_spawns_total\{outcome="refused"\} (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(3);

        // The place is freed the way the message says; the next cell starts the backend and runs.
        await cli(jenv, ['stop', holder.kernelId]);
        const ranCell = await run(notebook.client, '1+1');
        expect(ranCell.reply).toMatchObject({ status: 'ok' });
        expect(ranCell.output.trim()).toBe('2');
        const listed = await a.request<ListedBackend[]>({ op: 'list' });
        expect(listed.map((l) => `${l.requirement.runtime}/${l.requirement.provider}`)).toEqual([`${other.runtime}/${other.provider}`]);
        passed = true;
      } finally {
        a.close();
        b.close();
        await closeAll(jenv, routers, passed);
      }
      await expectNothingLeft(jenv);
    });
  }, 300_000);

  it('idle_cull_seconds: an idle backend is culled with its client told, the next cell gets a new one; a busy one is never culled', async () => {
    await withJupyterEnv(async (jenv) => {
      // Small, with room for a loaded machine: a backend's first cell must go busy within it after the attach.
      await writeConfig(jenv, ['[providers.openai]', `idle_cull_seconds = ${CULL_SECONDS}`, '[providers.anthropic]', `idle_cull_seconds = ${CULL_SECONDS}`]);
      const flag = join(jenv.dir, 'long-cell-may-end');
      const routers: { router: Proc; client: TestClient }[] = [];
      const manager = await ManagerClient.connect({ home: jenv.homeDir, env: jenv.env, autostart: true });
      const list = () => manager.request<ListedBackend[]>({ op: 'list' });
      let passed = false;
      try {
        // 1. A long cell (it waits for a file the test writes) on python/anthropic; the manager hears it is busy.
        const busy = await startRouter(jenv, { runtime: 'python', provider: 'anthropic' });
        routers.push(busy);
        const longCell = run(busy.client, `import os, time\nwhile not os.path.exists(${JSON.stringify(flag)}):\n    time.sleep(0.05)\n'done'`);
        // Awaited at step 5; a failure before then must not also surface as an unhandled rejection.
        longCell.catch(() => undefined);
        const busyListed = await until(list, (l) => l.some((b) => b.requirement.provider === 'anthropic' && b.state === 'busy'), 'the long cell to be listed busy');
        const busyKernel = busyListed.find((b) => b.requirement.provider === 'anthropic')!;

        // 2. Another notebook runs one cell and then nothing: its backend is culled and its client told.
        const idle = await startRouter(jenv, PYTHON);
        routers.push(idle);
        const told = cullNotice(idle.client);
        const first = await run(idle.client, 'import os\nos.getpid()');
        expect(first.reply).toMatchObject({ status: 'ok' });
        const notice = await within(told, STEP_MS, 'the cull notice on iopub');
        expect(notice).toContain('the python/openai backend');
        expect(notice).toContain(`was culled after ${CULL_SECONDS} s without running a cell (idle_cull_seconds)`);
        expect(notice).toContain('the next cell starts a new one');

        // 3. The busy one has been busy for longer than that (it went busy before the culled one's
        //    last cell): its cull would have come first. It is still there, still busy.
        await until(list, (l) => l.every((b) => b.requirement.provider !== 'openai'), 'the culled backend to leave the list');
        expect((await list()).map((b) => [b.kernelId, b.state])).toEqual([[busyKernel.kernelId, 'busy']]);

        // 4. The next cell of the culled notebook starts a new backend, which works.
        const again = await run(idle.client, 'import os\nos.getpid()');
        expect(again.reply).toMatchObject({ status: 'ok' });
        expect(again.output).toMatch(/^\d+$/);
        expect(again.output).not.toBe(first.output);

        // 5. The long cell ends; from then on its backend is idle, and is culled in turn.
        const busyTold = cullNotice(busy.client);
        await writeFile(flag, '');
        expect((await longCell).output).toBe("'done'");
        expect(await within(busyTold, STEP_MS, 'the cull notice after the long cell')).toContain('the python/anthropic backend');
        const http = await readHttpInfo(jenv.homeDir);
        if (http === undefined) throw new Error('the manager wrote no http.json');
        const metrics = await (await fetch(`${http.url}/metrics`, { headers: { authorization: `Bearer ${http.token}` } })).text();
        // Both culls told above; the culled notebook's new backend, idle since its cell, may be a third.
        expect(Number(/^llmspell_fleet_backend_exits_total\{reason="culled"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
        passed = true;
      } finally {
        manager.close();
        await closeAll(jenv, routers, passed);
      }
      await expectNothingLeft(jenv);
    });
  }, 300_000);
});
