/**
 * The manager's HTTP API and /metrics over real HTTP (node fetch) against a real manager
 * process (autostarted by a client, as routers do) on 127.0.0.1, with real backends: the
 * llmspell stand-in, and a runtime that dies at start for the 409 of a failed spawn.
 * Every request goes through `api()`, which records the route and status it got; the last
 * test holds that record against the OpenAPI document the server serves.
 */
import { execFile } from 'node:child_process';
import { appendFile, chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import { JupyterClient } from '../../src/wire/client.js';
import { parseConnectionInfo } from '../../src/wire/connection-file.js';
import { waitForReady } from '../../src/wire/ready.js';
import type { ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { makeJupyterEnv, REPO_ROOT, type JupyterEnv } from '../helpers/e2e.js';
import { standinFleet } from '../helpers/fleet-env.js';
import { isRunning } from '../helpers/processes.js';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const OPENAI = { runtime: 'standin', provider: 'openai' };

interface Backend {
  kernelId: string;
  pid: number;
  state: string;
}

let jenv: JupyterEnv;
let env: NodeJS.ProcessEnv;
let home: string;
let base: string;
let token: string;
let managerPid: number;
/** "GET /api/v1/backends/{id}" → statuses seen. */
const seen = new Map<string, Set<number>>();
let templates: { method: string; path: string; re: RegExp }[] = [];

/** The documented path a concrete URL is an instance of ("{id}" is one segment). */
function templateOf(method: string, pathname: string): string {
  const t = templates.find((x) => x.method === method && x.re.test(pathname));
  return t === undefined ? `${method} (undocumented) ${pathname}` : `${method} ${t.path}`;
}

async function api(method: string, path: string, options: { auth?: string | null; body?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  const auth = options.auth === undefined ? token : options.auth;
  const headers: Record<string, string> = { ...options.headers };
  if (auth !== null) headers.authorization = `Bearer ${auth}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: options.body });
  const key = templateOf(method, new URL(path, base).pathname);
  if (!seen.has(key)) seen.set(key, new Set());
  seen.get(key)?.add(res.status);
  return res;
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function until(check: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface StreamedEvent {
  event: string;
  data: { type: string; kernelId: string; runtime: string; provider: string; time: number; reason?: string };
}

/** Reads a server-sent event stream as it comes: `until` returns every event up to the first that matches. */
function eventReader(res: Response) {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  const next = async (): Promise<StreamedEvent> => {
    for (;;) {
      const end = buffered.indexOf('\n\n');
      if (end >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        const fields = Object.fromEntries(block.split('\n').filter((l) => !l.startsWith(':')).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
        if (fields.event !== undefined) return { event: fields.event, data: JSON.parse(fields.data ?? 'null') as StreamedEvent['data'] };
        continue;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the event stream ended');
      buffered += decoder.decode(value, { stream: true });
    }
  };
  return {
    async until(match: (e: StreamedEvent) => boolean): Promise<StreamedEvent[]> {
      const got: StreamedEvent[] = [];
      for (;;) {
        const e = await next();
        got.push(e);
        if (match(e)) return got;
      }
    },
  };
}

async function openStreams(): Promise<number> {
  const text = await (await api('GET', '/metrics', { auth: null })).text();
  return Number(/^llmspell_fleet_event_streams (\S+)$/m.exec(text)?.[1]);
}

describe('manager HTTP API', () => {
  beforeAll(async () => {
    jenv = await makeJupyterEnv();
    ({ home, env } = await standinFleet(jenv, {
      // Backends nobody is attached to stay while the test looks at them.
      top: ['linger_seconds = 600'],
      tables: [
        // ipykernel twice: its kernelspec's own mode (signal), and interrupted by message.
        '[runtimes.python]',
        'kernelspec = "python3"',
        '[runtimes.pymessage]',
        'kernelspec = "python3"',
        'interrupt_mode = "message"',
        // A provider with a memory limit (a large one: only /metrics is looked at).
        '[providers.capped]',
        'memory_mb = 16384',
        '[runtimes.broken]', `argv = ${JSON.stringify([process.execPath, '-e', 'process.exit(3)', '{connection_file}'])}`, 'connection = "kernel-writes"'],
    }));
    const client = await ManagerClient.connect({ home, env, autostart: true });
    managerPid = (await client.request<ManagerInfo>({ op: 'ping' })).pid;
    client.close();
    // The manager writes http.json before it answers a ping.
    const info = JSON.parse(await readFile(join(home, 'http.json'), 'utf8')) as { url: string; token: string; pid: number };
    expect(info.pid).toBe(managerPid);
    base = info.url;
    token = info.token;
    const doc = await json<{ paths: Record<string, Record<string, unknown>> }>(await api('GET', '/api/v1/openapi.json'));
    templates = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => ({ method: m.toUpperCase(), path, re: new RegExp(`^${path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace('{id}', '[^/]+')}$`) })),
    );
  });

  afterAll(async () => {
    const client = await ManagerClient.connect({ home, env, autostart: false }).catch(() => undefined);
    if (client !== undefined) {
      await client.request({ op: 'shutdown' }).catch(() => undefined);
      await client.closed;
    }
    await jenv.cleanup();
  });

  it('listens on 127.0.0.1 and keeps http.json and http.token private to the user (0600, unreadable by another user)', async () => {
    expect(new URL(base).hostname).toBe('127.0.0.1');
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    // http.token: the token alone, for Prometheus's credentials_file.
    expect(await readFile(join(home, 'http.token'), 'utf8')).toBe(`${token}\n`);
    await chmod(jenv.dir, 0o755);
    for (const file of [join(home, 'http.json'), join(home, 'http.token')]) {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const script = `try { require('node:fs').readFileSync(${JSON.stringify(file)}); console.log('read') } catch (e) { console.log(e.code) }`;
      const { stdout } = await run(process.execPath, ['-e', script], { uid: 65534, gid: 65534, cwd: '/', timeout: 10_000 });
      expect(stdout.trim()).toBe('EACCES');
    }
  });

  it('answers 401 with nothing else without the token, with a wrong one, and for an unknown path', async () => {
    for (const [path, auth] of [
      ['/api/v1/backends', null],
      ['/api/v1/backends', 'wrong'],
      ['/api/v1/backends', `${token}x`],
      ['/api/v1/backends/anything', null],
      ['/api/v1/no-such-route', null],
      ['/api/v1/health', ''],
    ] as const) {
      const res = await api('GET', path, { auth });
      expect(res.status, `${path} with ${String(auth)}`).toBe(401);
      expect(await res.text()).toBe('');
    }
    for (const [method, path] of [
      ['POST', '/api/v1/backends'],
      ['POST', '/api/v1/backends:find-or-spawn'],
      ['POST', '/api/v1/backends/k/stop'],
      ['POST', '/api/v1/backends/k/restart'],
      ['POST', '/api/v1/backends/k/interrupt'],
      ['GET', '/api/v1/backends/k/logs'],
      ['GET', '/api/v1/openapi.json'],
    ] as const) {
      const res = await api(method, path, { auth: null, body: method === 'POST' ? JSON.stringify(OPENAI) : undefined });
      expect(res.status, `${method} ${path}`).toBe(401);
      expect(await res.text()).toBe('');
    }
    // Nothing was spawned by the refused POST.
    expect(await json<{ backends: unknown[] }>(await api('GET', '/api/v1/backends'))).toEqual({ backends: [] });
  });

  it('refuses a Host header that is not its loopback address (DNS rebinding) with 421, even with the token', async () => {
    const { port } = new URL(base);
    const status = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/metrics', headers: { host, authorization: `Bearer ${token}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    expect(await status(`evil.example:${port}`)).toBe(421);
    expect(await status(`127.0.0.1:${Number(port) + 1}`)).toBe(421);
    expect(await status(`localhost:${port}`)).toBe(200);
  });

  it('takes ?token= once, then the HttpOnly SameSite=Strict cookie it set', async () => {
    const first = await api('GET', `/api/v1/backends?token=${token}`, { auth: null });
    expect(first.status).toBe(200);
    const cookie = first.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const again = await api('GET', '/api/v1/backends', { auth: null, headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(again.status).toBe(200);
    expect((await api('GET', '/api/v1/backends', { auth: null, headers: { cookie: 'llmspell_fleet_token=wrong' } })).status).toBe(401);
  });

  it('spawns, lists, gets, finds, reads logs of, restarts and stops a real backend', async () => {
    const spawned = await api('POST', '/api/v1/backends', { body: JSON.stringify(OPENAI) });
    expect(spawned.status).toBe(201);
    const backend = await json<Backend & { requirement: unknown; connection?: unknown }>(spawned);
    expect(backend).toMatchObject({ requirement: OPENAI, state: 'ready' });
    // The HTTP API never hands out a backend's HMAC key.
    expect(JSON.stringify(backend)).not.toMatch(/"key"/);
    expect(await isRunning(backend.pid)).toBe(true);

    const list = await json<{ backends: Backend[] }>(await api('GET', '/api/v1/backends'));
    expect(list.backends.map((b) => b.kernelId)).toEqual([backend.kernelId]);
    expect(await json<Backend>(await api('GET', `/api/v1/backends/${backend.kernelId}`))).toMatchObject({ kernelId: backend.kernelId, pid: backend.pid });

    // find-or-spawn finds the running one.
    const found = await api('POST', '/api/v1/backends:find-or-spawn', { body: JSON.stringify(OPENAI) });
    expect(found.status).toBe(200);
    expect((await json<Backend>(found)).kernelId).toBe(backend.kernelId);

    const logs = await api('GET', `/api/v1/backends/${backend.kernelId}/logs?tail=1`);
    expect(logs.status).toBe(200);
    const log = await json<{ text: string }>(logs);
    expect(log.text).toMatch(/^llmspell-standin: kernel .* ready/);
    expect(log.text.split('\n')).toHaveLength(2); // one line and its newline

    const restarted = await api('POST', `/api/v1/backends/${backend.kernelId}/restart`);
    expect(restarted.status).toBe(200);
    const next = await json<Backend>(restarted);
    expect(next.kernelId).not.toBe(backend.kernelId);
    await until(async () => !(await isRunning(backend.pid)), 'the replaced backend to exit');

    const stopped = await api('POST', `/api/v1/backends/${next.kernelId}/stop`);
    expect(stopped.status).toBe(200);
    expect((await json<{ stopped: Backend[] }>(stopped)).stopped.map((b) => b.kernelId)).toEqual([next.kernelId]);
    expect(await isRunning(next.pid)).toBe(false);
    expect((await api('GET', `/api/v1/backends/${next.kernelId}`)).status).toBe(404);
  });

  it('answers 400 naming the wrong field, 404 for an unknown backend, 409 when a backend cannot start or be restarted', async () => {
    const cases: [string, string, string | undefined, number, { code: string; field?: string; message: RegExp }][] = [
      ['POST', '/api/v1/backends', '{"runtime":', 400, { code: 'BAD_REQUEST', field: 'body', message: /not valid JSON/ }],
      ['POST', '/api/v1/backends', undefined, 400, { code: 'BAD_REQUEST', field: 'body', message: /body is missing/ }],
      ['POST', '/api/v1/backends', JSON.stringify({ runtime: 'standin' }), 400, { code: 'BAD_REQUEST', field: 'provider', message: /^provider is missing: it must be a name/ }],
      ['POST', '/api/v1/backends', JSON.stringify({ runtime: 5, provider: 'openai' }), 400, { code: 'BAD_REQUEST', field: 'runtime', message: /^runtime must be a name .* \(got 5\)/ }],
      ['POST', '/api/v1/backends:find-or-spawn', JSON.stringify({ ...OPENAI, cwd: '/' }), 400, { code: 'BAD_REQUEST', field: 'cwd', message: /cwd is not a known field/ }],
      ['POST', '/api/v1/backends', JSON.stringify({ runtime: 'nope', provider: 'openai' }), 400, { code: 'UNKNOWN_RUNTIME', field: 'runtime', message: /unknown runtime "nope"/ }],
      ['POST', '/api/v1/backends:find-or-spawn', JSON.stringify({ runtime: 'standin', provider: 'nope' }), 400, { code: 'UNKNOWN_PROVIDER', field: 'provider', message: /unknown provider "nope"/ }],
      ['GET', '/api/v1/backends/bad%20id', undefined, 400, { code: 'BAD_REQUEST', field: 'id', message: /^id must be a backend id/ }],
      ['GET', '/api/v1/backends/no-such-backend', undefined, 404, { code: 'UNKNOWN_BACKEND', message: /no backend no-such-backend/ }],
      ['POST', '/api/v1/backends/no-such-backend/stop', undefined, 404, { code: 'UNKNOWN_BACKEND', message: /no-such-backend/ }],
      ['POST', '/api/v1/backends/bad%20id/stop', undefined, 400, { code: 'BAD_REQUEST', field: 'id', message: /id must be/ }],
      ['POST', '/api/v1/backends/no-such-backend/restart', undefined, 404, { code: 'UNKNOWN_BACKEND', message: /no-such-backend/ }],
      ['POST', '/api/v1/backends/bad%20id/restart', undefined, 400, { code: 'BAD_REQUEST', field: 'id', message: /id must be/ }],
      ['POST', '/api/v1/backends/no-such-backend/interrupt', undefined, 404, { code: 'UNKNOWN_BACKEND', message: /no-such-backend/ }],
      ['POST', '/api/v1/backends/bad%20id/interrupt', undefined, 400, { code: 'BAD_REQUEST', field: 'id', message: /id must be/ }],
      ['GET', '/api/v1/backends/no-such-backend/logs', undefined, 404, { code: 'UNKNOWN_BACKEND', message: /no-such-backend/ }],
      ['GET', '/api/v1/backends/bad%20id/logs', undefined, 400, { code: 'BAD_REQUEST', field: 'id', message: /id must be/ }],
      ['POST', '/api/v1/backends', JSON.stringify({ runtime: 'broken', provider: 'openai' }), 409, { code: 'BACKEND_EXITED', message: /exit|code 3/ }],
      ['POST', '/api/v1/backends:find-or-spawn', JSON.stringify({ runtime: 'broken', provider: 'openai' }), 409, { code: 'BACKEND_EXITED', message: /exit|code 3/ }],
    ];
    for (const [method, path, body, status, error] of cases) {
      const res = await api(method, path, { body });
      const got = await json<{ error: { code: string; message: string; field?: string } }>(res);
      expect({ status: res.status, code: got.error.code, field: got.error.field }, `${method} ${path} ${body ?? ''}: ${got.error.message}`).toEqual({ status, code: error.code, field: error.field });
      expect(got.error.message).toMatch(error.message);
      expect(Object.keys(got)).toEqual(['error']);
    }
    const backend = await json<Backend>(await api('POST', '/api/v1/backends', { body: JSON.stringify(OPENAI) }));
    const badTail = await api('GET', `/api/v1/backends/${backend.kernelId}/logs?tail=-1`);
    expect(badTail.status).toBe(400);
    expect((await json<{ error: { field: string } }>(badTail)).error.field).toBe('tail');
    // A backend that died on its own is listed as dead: it cannot be restarted (409), only spawned anew.
    process.kill(backend.pid, 'SIGKILL');
    await until(async () => (await json<Backend>(await api('GET', `/api/v1/backends/${backend.kernelId}`))).state === 'dead', 'the killed backend to show as dead');
    const restart = await api('POST', `/api/v1/backends/${backend.kernelId}/restart`);
    expect(restart.status).toBe(409);
    expect((await json<{ error: { code: string } }>(restart)).error.code).toBe('CONFLICT');
    const interrupt = await api('POST', `/api/v1/backends/${backend.kernelId}/interrupt`);
    expect(interrupt.status).toBe(409);
    expect((await json<{ error: { code: string } }>(interrupt)).error.code).toBe('CONFLICT');
  });

  it('interrupts a looping cell through the API (SIGINT) and the CLI (interrupt_request): the client gets KeyboardInterrupt', async () => {
    for (const [runtime, mode] of [['python', 'signal'], ['pymessage', 'message']] as const) {
      const backend = await json<Backend & { connectionFile: string }>(await api('POST', '/api/v1/backends', { body: JSON.stringify({ runtime, provider: 'openai' }) }));
      const client = new JupyterClient({ connection: parseConnectionInfo(await readFile(backend.connectionFile, 'utf8')) });
      try {
        await waitForReady(client, { timeoutMs: 60_000 });
        const looping = new Promise<void>((resolve) => client.onIopub((m) => void (m.msgType === 'stream' && resolve())));
        const cell = client.start('execute_request', { code: "import time\nprint('looping', flush=True)\nwhile True: time.sleep(0.05)", silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true });
        await looping;
        if (mode === 'signal') {
          const res = await api('POST', `/api/v1/backends/${backend.kernelId}/interrupt`);
          expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { interrupted: backend.kernelId, mode } });
        } else {
          const { stdout } = await run(process.execPath, [CLI, 'interrupt', backend.kernelId], { env, timeout: 30_000 });
          expect(stdout).toBe(`interrupted ${backend.kernelId} (interrupt_request on control)\n`);
        }
        const reply = await cell.reply;
        expect(reply.content()).toMatchObject({ status: 'error', ename: 'KeyboardInterrupt' });
      } finally {
        client.close();
        await api('POST', `/api/v1/backends/${backend.kernelId}/stop`);
      }
    }
    const unknown = await run(process.execPath, [CLI, 'interrupt', 'no-such-backend'], { env, timeout: 30_000 }).catch((e: unknown) => e as { code: number; stdout: string; stderr: string });
    expect(unknown).toMatchObject({ code: 1, stdout: '' });
    expect((unknown as { stderr: string }).stderr).toMatch(/no backend has the id or port "no-such-backend"/);
  });

  it('answers 504, not 500, when a backend does not answer interrupt_request in time (a hung kernel)', async () => {
    const backend = await json<Backend>(await api('POST', '/api/v1/backends', { body: JSON.stringify({ runtime: 'pymessage', provider: 'openai', group: 'hung' }) }));
    // Stopped, it is still listed as ready but reads nothing: what a hung kernel looks like from outside.
    process.kill(-backend.pid, 'SIGSTOP');
    try {
      const res = await api('POST', `/api/v1/backends/${backend.kernelId}/interrupt`);
      const body = await json<{ error: { code: string; message: string } }>(res);
      expect({ status: res.status, code: body.error.code }).toEqual({ status: 504, code: 'REQUEST_TIMEOUT' });
      expect(body.error.message).toMatch(new RegExp(`^backend ${backend.kernelId} did not answer interrupt_request within 10 s: it may be hung`));
    } finally {
      process.kill(-backend.pid, 'SIGCONT');
      await api('POST', `/api/v1/backends/${backend.kernelId}/stop`);
    }
  }, 60_000);

  it('says 200 when every backend answers its heartbeat and 503 naming one that does not (and /metrics says it is not up)', async () => {
    const backend = await json<Backend>(await api('POST', '/api/v1/backends', { body: JSON.stringify({ ...OPENAI, group: 'health' }) }));
    const ok = await api('GET', '/api/v1/health');
    expect(ok.status).toBe(200);
    expect(await json<{ unhealthy: string[] }>(ok)).toMatchObject({ status: 'ok', unhealthy: [] });
    // A stopped process is alive but cannot answer its heartbeat.
    process.kill(backend.pid, 'SIGSTOP');
    try {
      const sick = await api('GET', '/api/v1/health');
      expect(sick.status).toBe(503);
      expect(await json<{ unhealthy: string[] }>(sick)).toMatchObject({ status: 'unhealthy', unhealthy: [backend.kernelId] });
      const metrics = await (await api('GET', '/metrics', { auth: null })).text();
      expect(metrics).toMatch(new RegExp(`^llmspell_fleet_backend_up\\{kernel_id="${backend.kernelId}",[^}]*\\} 0$`, 'm'));
    } finally {
      process.kill(backend.pid, 'SIGCONT');
    }
  });

  it('serves Prometheus metrics on loopback without the token, with the backend memory from /proc', async () => {
    const backend = await json<Backend>(await api('POST', '/api/v1/backends', { body: JSON.stringify({ ...OPENAI, group: 'metrics' }) }));
    const res = await api('GET', '/metrics', { auth: null });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    // Every line is a comment or `name{labels} value`, as the text format says.
    const sample = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.]+(e[+-]?[0-9]+)?|NaN|[+-]Inf)$/;
    for (const line of text.split('\n').filter((l) => l.length > 0 && !l.startsWith('#'))) expect(line).toMatch(sample);
    const labels = `kernel_id="${backend.kernelId}",runtime="standin",provider="openai",group="metrics"`;
    const value = (name: string) => Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('llmspell_fleet_backend_resident_memory_bytes')).toBeGreaterThan(1024 * 1024);
    expect(value('llmspell_fleet_backend_cpu_seconds_total')).toBeGreaterThan(0);
    expect(value('llmspell_fleet_backend_attached_clients')).toBe(0);
    expect(value('llmspell_fleet_backend_busy')).toBe(0);
    expect(value('llmspell_fleet_backend_start_time_seconds')).toBeGreaterThan(1.7e9);
    expect(value('llmspell_fleet_backend_open_fds')).toBeGreaterThanOrEqual(3);
    expect(value('llmspell_fleet_backend_up')).toBe(1);
    // No limit, no limit series; a backend with memory_mb has its limit in bytes.
    expect(value('llmspell_fleet_backend_memory_limit_bytes')).toBeNaN();
    const capped = await json<Backend>(await api('POST', '/api/v1/backends', { body: JSON.stringify({ runtime: 'standin', provider: 'capped', group: 'metrics' }) }));
    const again = await (await api('GET', '/metrics', { auth: null })).text();
    expect(again).toMatch(new RegExp(`^llmspell_fleet_backend_memory_limit_bytes\\{kernel_id="${capped.kernelId}",runtime="standin",provider="capped",group="metrics"\\} ${16384 * 1024 * 1024}$`, 'm'));
    expect((await api('POST', `/api/v1/backends/${capped.kernelId}/stop`)).status).toBe(200);
    expect(text).toMatch(/^llmspell_fleet_backends\{state="ready",runtime="standin",provider="openai"\} [1-9]/m);
    // From the earlier tests: the broken runtime's failed starts, the restart, the stop and the SIGKILL.
    expect(text).toMatch(/^llmspell_fleet_spawns_total\{outcome="failed"\} [1-9]/m);
    expect(text).toMatch(/^llmspell_fleet_restarts_total [1-9]/m);
    expect(text).toMatch(/^llmspell_fleet_backend_exits_total\{reason="stopped"\} [1-9]/m);
    expect(text).toMatch(/^llmspell_fleet_backend_exits_total\{reason="signalled"\} [1-9]/m);
    expect(text).toMatch(/^llmspell_fleet_manager_process_resident_memory_bytes [1-9]/m);
  });

  it('streams fleet events (spawned, ready, attached, busy, idle, detached, restarting, restarted, stopped) over SSE while the client stays, with no listener left after', async () => {
    expect((await api('GET', '/api/v1/events', { auth: null })).status).toBe(401);
    const before = await openStreams();
    const abort = new AbortController();
    const res = await fetch(`${base}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal });
    seen.set('GET /api/v1/events', new Set([...(seen.get('GET /api/v1/events') ?? []), res.status]));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await openStreams()).toBe(before + 1);
    const stream = eventReader(res);

    const backend = await json<Backend>(await api('POST', '/api/v1/backends', { body: JSON.stringify({ ...OPENAI, group: 'events' }) }));
    const mine = (type: string) => (e: StreamedEvent) => e.data.kernelId === backend.kernelId && e.event === type;
    const starting = (await stream.until(mine('ready'))).filter((e) => e.data.kernelId === backend.kernelId);
    expect(starting.map((e) => e.event)).toEqual(['spawned', 'ready']);
    expect(starting[0]?.data).toMatchObject({ type: 'spawned', kernelId: backend.kernelId, runtime: 'standin', provider: 'openai' });
    expect(starting[1]?.data.time).toBeGreaterThanOrEqual(starting[0]?.data.time ?? Infinity);

    // A router's part, through the manager socket as routers speak it: attach, busy, idle, and the lease ending.
    const router = await ManagerClient.connect({ home, env, autostart: false });
    await router.request({ op: 'attach', kernelId: backend.kernelId, routerId: 'router-events', pid: process.pid });
    await router.request({ op: 'execution-state', kernelId: backend.kernelId, routerId: 'router-events', executionState: 'busy' });
    await router.request({ op: 'execution-state', kernelId: backend.kernelId, routerId: 'router-events', executionState: 'idle' });
    router.close();
    const used = (await stream.until(mine('detached'))).filter((e) => e.data.kernelId === backend.kernelId);
    expect(used.map((e) => e.event)).toEqual(['attached', 'busy', 'idle', 'detached']);
    expect(used[0]?.data).toMatchObject({ routerId: 'router-events' });

    const replaced = await api('POST', `/api/v1/backends/${backend.kernelId}/restart`);
    expect(replaced.status).toBe(200);
    const next = await json<Backend>(replaced);
    const restart = await stream.until((e) => e.data.kernelId === next.kernelId && e.event === 'restarted');
    expect(restart.map((e) => `${e.event} ${e.data.kernelId === backend.kernelId ? 'old' : 'new'}`)).toEqual(['restarting old', 'stopped old', 'spawned new', 'restarted new']);

    expect((await api('POST', `/api/v1/backends/${next.kernelId}/stop`)).status).toBe(200);
    const stopping = await stream.until((e) => e.data.kernelId === next.kernelId && e.event === 'stopped');
    expect(stopping.at(-1)?.data).toMatchObject({ type: 'stopped', kernelId: next.kernelId, reason: 'stopped' });

    abort.abort();
    await until(async () => (await openStreams()) === before, 'the closed stream to stop listening');
  });

  it('follows a backend log over SSE: the tail, each new line, then end when the backend stops', async () => {
    expect((await api('GET', '/api/v1/backends/no-such-backend/logs?follow=1')).status).toBe(404);
    const backend = await json<Backend & { logFile: string }>(await api('POST', '/api/v1/backends', { body: JSON.stringify({ ...OPENAI, group: 'follow' }) }));
    const res = await api('GET', `/api/v1/backends/${backend.kernelId}/logs?follow=1&tail=5`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const stream = eventReader(res);
    const tail = await stream.until((e) => e.event === 'line');
    expect(tail.at(-1)?.data).toEqual(expect.any(String));
    // Stands for the backend writing to its own log (the stand-in says nothing after it starts).
    await appendFile(backend.logFile, 'first new line\nsecond new ');
    await appendFile(backend.logFile, 'line\n');
    const added = (await stream.until((e) => e.data === ('second new line' as unknown))).filter((e) => e.event === 'line').map((e) => e.data as unknown);
    expect(added.slice(-2)).toEqual(['first new line', 'second new line']);
    expect((await api('POST', `/api/v1/backends/${backend.kernelId}/stop`)).status).toBe(200);
    const end = await stream.until((e) => e.event === 'end');
    expect(end.at(-1)?.data).toEqual({ kernelId: backend.kernelId, reason: 'the backend is no longer running' });
    await expect(stream.until(() => false)).rejects.toThrow('the event stream ended');
  });

  it('serves the dashboard: ?token= sets the cookie and redirects to the clean URL; a cookie POST needs X-Requested-With (CSRF)', async () => {
    expect((await fetch(`${base}/`)).status).toBe(401);
    const first = await fetch(`${base}/?token=${token}`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/');
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const page = await fetch(`${base}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
    expect(await page.text()).toContain('<script src="/dashboard.js" defer></script>');
    expect((await fetch(`${base}/dashboard.js`, { headers: { cookie } })).headers.get('content-type')).toBe('text/javascript; charset=utf-8');

    const backend = await json<Backend>(await api('POST', '/api/v1/backends', { body: JSON.stringify({ ...OPENAI, group: 'csrf' }) }));
    const stop = `${base}/api/v1/backends/${backend.kernelId}/stop`;
    const forged = await fetch(stop, { method: 'POST', headers: { cookie } });
    expect(forged.status).toBe(403);
    expect(await json<{ error: { code: string } }>(forged)).toMatchObject({ error: { code: 'FORBIDDEN' } });
    expect((await json<Backend>(await api('GET', `/api/v1/backends/${backend.kernelId}`))).state).toBe('ready');
    expect((await fetch(stop, { method: 'POST', headers: { cookie, 'x-requested-with': 'llmspell-fleet' } })).status).toBe(200);
  });

  it('answers every documented route with a documented status, and nothing undocumented', async () => {
    for (const path of ['/dashboard', '/api', '/api/v1', '/api/v1/backends/x/pause', '/api/v1/backends/x/logs/more']) {
      const res = await api('GET', path);
      expect(res.status, path).toBe(404);
    }
    expect((await api('DELETE', '/api/v1/backends')).status).toBe(405);
    const doc = await json<{ openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }>(await api('GET', '/api/v1/openapi.json'));
    expect(doc.openapi).toBe('3.1.0');
    const documented = new Map(Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => [`${m.toUpperCase()} ${path}`, Object.keys(op.responses).map(Number).sort()] as const)));
    const answered = new Map([...seen].filter(([key]) => !key.includes('(undocumented)') && !key.startsWith('DELETE')).map(([key, statuses]) => [key, [...statuses].sort()] as const));
    // Each documented route was called and gave each documented status; no other status came back.
    expect(Object.fromEntries(answered)).toEqual(Object.fromEntries(documented));
  });

  it('`llmspell-fleet dashboard` prints the URL with the token, as `jupyter server list` does', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'dashboard'], { env, timeout: 30_000 });
    expect(stdout).toContain(`${base}/?token=${token} :: ${home}\n`);
    expect(stdout).toContain(`metrics: ${base}/metrics`);
    const { stdout: json } = await run(process.execPath, [CLI, 'dashboard', '--json'], { env, timeout: 30_000 });
    expect(JSON.parse(json)).toEqual({ url: base, dashboard: `${base}/?token=${token}`, api: `${base}/api/v1`, metrics: `${base}/metrics`, token, pid: managerPid, home });

    // --open: a stand-in for the desktop's opener records what it was given (no browser here).
    const bin = join(jenv.dir, 'opener-bin');
    const opened = join(jenv.dir, 'opened-url');
    await mkdir(bin, { recursive: true });
    await writeFile(join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`);
    await chmod(join(bin, 'xdg-open'), 0o755);
    await run(process.execPath, [CLI, 'dashboard', '--open'], { env: { ...env, PATH: bin }, timeout: 30_000 });
    expect(await readFile(opened, 'utf8')).toBe(`${base}/?token=${token}`);
    const none = await run(process.execPath, [CLI, 'dashboard', '--open'], { env: { ...env, PATH: join(jenv.dir, 'no-such-dir') }, timeout: 30_000 }).catch((e: unknown) => e as { code: number; stderr: string });
    expect(none).toMatchObject({ code: expect.any(Number) as unknown });
    expect((none as { stderr: string }).stderr).toContain('no xdg-open on PATH; open the URL above yourself');
  });

  it('removes http.json and http.token when the manager exits, ending the event streams still open', async () => {
    const open = eventReader(await api('GET', '/api/v1/events'));
    const client = await ManagerClient.connect({ home, env, autostart: false });
    await client.request({ op: 'shutdown' });
    await client.closed;
    await expect(open.until(() => false)).rejects.toThrow('the event stream ended');
    await until(async () => !(await isRunning(managerPid)), 'the manager to exit');
    await expect(stat(join(home, 'http.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(stat(join(home, 'http.token'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fetch(`${base}/metrics`)).rejects.toThrow();
  });
});

describe('manager with [http] enabled = false', () => {
  let off: JupyterEnv;

  afterAll(async () => {
    const offHome = join(off.dir, 'fleet');
    const client = await ManagerClient.connect({ home: offHome, env: { ...off.env, LLMSPELL_FLEET_HOME: offHome }, autostart: false }).catch(() => undefined);
    if (client !== undefined) {
      await client.request({ op: 'shutdown' }).catch(() => undefined);
      await client.closed;
    }
    await off.cleanup();
  });

  it('serves no HTTP, writes no http.json, and `dashboard` says why', async () => {
    off = await makeJupyterEnv();
    const offHome = join(off.dir, 'fleet');
    const config = join(off.dir, 'fleet.toml');
    await writeFile(config, '[http]\nenabled = false\n');
    const offEnv = { ...off.env, LLMSPELL_FLEET_HOME: offHome, LLMSPELL_FLEET_CONFIG: config };
    const failed = await run(process.execPath, [CLI, 'dashboard'], { env: offEnv, timeout: 30_000 }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stderr: string },
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/has no HTTP API: .*http\.json is missing.*\[http\] enabled = false/);
    await expect(stat(join(offHome, 'http.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
