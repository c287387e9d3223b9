/**
 * The shared router host (README "Shared router host"): one `llmspell-fleet router-host` per
 * fleet home runs a router session for each kernel stub that connects, behaving for each
 * client as a standalone router would. Here the stub's side of the protocol is spoken over
 * node:net (the real native stub has its own test below); the clients are real jupyter_client
 * ones, the backends real ipykernels behind the real fleet manager.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ListedBackend } from '../../src/fleet/manager/protocol.js';
import { describeRun, REPO_ROOT, runPython, withJupyterEnv, type JupyterEnv } from '../helpers/e2e.js';
import { cli, writeClientConnectionFile } from '../helpers/fleet-env.js';
import { isRunning } from '../helpers/processes.js';
import { helloFor, hostSocket, kernelProcess, startRouterHost, stopRouterHost, StubSide } from '../helpers/router-host.js';

const TEST_TIMEOUT_MS = 180_000;
const STUB = join(REPO_ROOT, 'dist', 'native', 'kernel-stub');

/** Variables that would decide a requirement or the mode if the developer's shell had them set. */
const UNSET = ['LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER', 'LLMSPELL_FLEET_MODE', 'LLMSPELL_FLEET_CONFIG', 'JPY_SESSION_NAME', 'LLMSPELL_FLEET_ROUTER'];

interface ExecuteRecord {
  ok: boolean;
  status: string | null;
  stdout: string;
  shutdown: boolean | null;
  error: string | null;
}

/** A fleet of ipykernels (linger 0: a backend stops when its last router leaves) and the host's linger. */
async function fleet(jenv: JupyterEnv, hostLingerSeconds = 30): Promise<void> {
  for (const name of UNSET) delete jenv.env[name];
  jenv.env.JPY_PARENT_PID = String(process.pid);
  const toml = ['default_runtime = "python"', 'default_provider = "openai"', 'linger_seconds = 0', '[router]', `host_linger_seconds = ${hostLingerSeconds}`].join('\n');
  await writeFile(join(jenv.homeDir, 'fleet.toml'), `${toml}\n`, { mode: 0o600 });
}

/**
 * Router flags for tests of the host's own mechanics: the requirement cannot be planned, so the
 * session runs (and answers its client with the reason) without starting a manager or a
 * backend, which a test that stops it at once would otherwise leave starting.
 */
const NO_BACKEND = ['--runtime', 'nosuch'];

/**
 * A session starts the fleet manager early, as a standalone router does, whatever its
 * requirement: before a test's cleanup stops the manager, this waits until that start is
 * over (the CLI's connect waits for a manager being started, or starts one).
 */
async function managerSettled(jenv: JupyterEnv): Promise<void> {
  await cli(jenv, ['list', '--json']);
}

/**
 * After a test: the manager's early start settled (the host starts one first thing, and so does
 * each session), the host stopped (ending its sessions), then what the test started.
 */
async function cleanUp(jenv: JupyterEnv, ...started: { stop(): Promise<unknown> }[]): Promise<void> {
  await managerSettled(jenv).catch(() => undefined);
  await stopRouterHost(jenv.homeDir);
  await Promise.all(started.map((p) => p.stop()));
}

/** One stub's session: a kernel process standing in for the stub, its connection file, its connection. */
async function openSession(jenv: JupyterEnv, routerArgs: string[] = [], entry?: string) {
  const kernel = kernelProcess(jenv.env);
  const { file } = await writeClientConnectionFile(jenv);
  const stub = await StubSide.connect(hostSocket(jenv.homeDir), helloFor({ pid: kernel.pid, cwd: jenv.dir, env: jenv.env, routerArgs: ['--connection-file', file, ...routerArgs], entry }));
  return { kernel, file, stub, log: () => readLog(jenv, kernel.pid) };
}

function readLog(jenv: JupyterEnv, pid: number): string {
  const file = join(jenv.homeDir, 'logs', `router-${pid}.log`);
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

async function execute(jenv: JupyterEnv, connectionFile: string, code: string, shutdown = false): Promise<ExecuteRecord> {
  const run = await runPython<ExecuteRecord>('host_execute_check.py', ['--connection-file', connectionFile, ...(shutdown ? ['--shutdown'] : []), code], { env: jenv.env, timeoutMs: 120_000 });
  expect(run.result, describeRun('host_execute_check', run)).toBeDefined();
  return run.result!;
}

async function listed(jenv: JupyterEnv): Promise<ListedBackend[]> {
  return JSON.parse((await cli(jenv, ['list', '--json'])).stdout) as ListedBackend[];
}

/** Polls `probe` (a process or a log line to appear or go) until it holds, up to `timeoutMs`. */
async function until(probe: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('router host', () => {
  it('runs two sessions in one process, each with its own connection file; one ends by EOF, the other keeps working', async () => {
    await withJupyterEnv(async (jenv) => {
      await fleet(jenv);
      const host = startRouterHost(jenv.env);
      const a = await openSession(jenv);
      const b = await openSession(jenv);
      try {
        await a.stub.listening();
        await b.stub.listening();
        expect(statSync(hostSocket(jenv.homeDir)).mode & 0o777).toBe(0o600);
        const [ra, rb] = await Promise.all([execute(jenv, a.file, 'print("from a", 6 * 7)'), execute(jenv, b.file, 'print("from b", 6 * 8)')]);
        expect(ra, JSON.stringify(ra)).toMatchObject({ ok: true, stdout: 'from a 42\n' });
        expect(rb, JSON.stringify(rb)).toMatchObject({ ok: true, stdout: 'from b 48\n' });
        // One shared backend, attached by both sessions under their kernel processes' pids.
        const [backend] = await listed(jenv);
        expect(backend?.attached.map((r) => r.pid).sort()).toEqual([a.kernel.pid, b.kernel.pid].sort());
        // Each session logs where a standalone router in its kernel's place would.
        expect(a.log()).toContain('"msg":"router listening"');
        expect(b.log()).toContain('"msg":"router listening"');

        a.stub.end();
        await until(() => a.log().includes('the kernel process is gone'), 'session a to stop after EOF');
        await until(async () => (await listed(jenv))[0]?.attached.length === 1, 'session a to be detached');
        expect((await listed(jenv))[0]?.attached.map((r) => r.pid)).toEqual([b.kernel.pid]);
        const again = await execute(jenv, b.file, 'print("still", 1 + 1)', true);
        expect(again, JSON.stringify(again)).toMatchObject({ ok: true, stdout: 'still 2\n', shutdown: true });
        // A shutdown_request ends the session as it ends a standalone router: exit 0.
        expect(await b.stub.exit()).toBe(0);
        expect(host.child.exitCode).toBeNull();
      } finally {
        await cleanUp(jenv, a.kernel, b.kernel);
      }
      expect((await host.exit).code).toBe(0);
    });
  }, TEST_TIMEOUT_MS);

  it('a stub that passes on SIGTERM gets {"exit":0} and its backend is released', async () => {
    await withJupyterEnv(async (jenv) => {
      await fleet(jenv);
      startRouterHost(jenv.env);
      const s = await openSession(jenv);
      try {
        await s.stub.listening();
        expect(await execute(jenv, s.file, 'print(1)')).toMatchObject({ ok: true });
        const [backend] = await listed(jenv);
        expect(backend?.attached.map((r) => r.pid)).toEqual([s.kernel.pid]);
        s.stub.signal('SIGTERM');
        expect(await s.stub.exit()).toBe(0);
        await s.stub.closed;
        // linger_seconds = 0: released by its only router, the backend stops.
        await until(async () => !(await isRunning(backend!.pid)), `backend ${backend!.pid} to stop once released`);
        expect(s.log()).toMatch(/"reason":"SIGTERM".*"msg":"router stopping"|"msg":"router stopping".*"reason":"SIGTERM"/);
      } finally {
        await cleanUp(jenv, s.kernel);
      }
    });
  }, TEST_TIMEOUT_MS);

  it('sends a stub of another install back to the standalone router ({"fallback"}) and closes', async () => {
    await withJupyterEnv(async (jenv) => {
      await fleet(jenv);
      const host = startRouterHost(jenv.env);
      // The same version's other entry point is still another install: its code may differ.
      const other = join(REPO_ROOT, 'dist', 'bundle', 'main.js');
      const s = await openSession(jenv, [], other);
      try {
        await s.stub.closed;
        expect(s.stub.messages).toEqual([{ fallback: expect.stringContaining(`another llmspell-fleet (${realpathSync(other)}`) as unknown }]);
        expect(s.log()).toBe('');
        // Nothing to keep warm for: a host that only sent stubs back exits at once.
        expect(await host.exit).toEqual({ code: 0, signal: null });
      } finally {
        await cleanUp(jenv, s.kernel);
      }
    });
  }, TEST_TIMEOUT_MS);

  it('a second host for the same home exits 0 and the first keeps serving', async () => {
    await withJupyterEnv(async (jenv) => {
      await fleet(jenv);
      const first = startRouterHost(jenv.env);
      const s = await openSession(jenv);
      try {
        await s.stub.listening();
        const second = startRouterHost(jenv.env);
        expect(await second.exit).toEqual({ code: 0, signal: null });
        expect(second.stderr()).toBe('');
        expect(first.child.exitCode).toBeNull();
        const t = await openSession(jenv);
        try {
          await t.stub.listening();
          expect(await execute(jenv, t.file, 'print("served")')).toMatchObject({ ok: true, stdout: 'served\n' });
        } finally {
          t.stub.end();
          await t.kernel.stop();
        }
        const hostLog = readFileSync(join(jenv.homeDir, 'logs', 'router-host.log'), 'utf8');
        expect(hostLog).toContain('a router host already serves this home; exiting');
      } finally {
        await cleanUp(jenv, s.kernel);
      }
    });
  }, TEST_TIMEOUT_MS);

  it('a host killed with SIGKILL leaves its socket and lock behind; the next host takes both over and serves', async () => {
    await withJupyterEnv(async (jenv) => {
      await fleet(jenv);
      const killed = startRouterHost(jenv.env);
      const probe = await StubSide.connect(hostSocket(jenv.homeDir), '{"v":1}\n');
      await probe.closed;
      killed.child.kill('SIGKILL');
      await killed.exit;
      expect(existsSync(hostSocket(jenv.homeDir))).toBe(true);
      expect(readFileSync(join(jenv.homeDir, 'router-host.lock'), 'utf8')).toContain(String(killed.child.pid));
      const next = startRouterHost(jenv.env);
      const s = await openSession(jenv, NO_BACKEND);
      try {
        await s.stub.listening();
        expect(readFileSync(join(jenv.homeDir, 'router-host.lock'), 'utf8')).toContain(String(next.child.pid));
        s.stub.signal('SIGTERM');
        expect(await s.stub.exit()).toBe(0);
      } finally {
        await cleanUp(jenv, s.kernel);
      }
    });
  }, TEST_TIMEOUT_MS);

  it('with host_linger_seconds = 0 exits once the last session ends, leaving no socket', async () => {
    await withJupyterEnv(async (jenv) => {
      await fleet(jenv, 0);
      const host = startRouterHost(jenv.env);
      const s = await openSession(jenv, NO_BACKEND);
      try {
        await s.stub.listening();
        s.stub.signal('SIGHUP');
        expect(await s.stub.exit()).toBe(0);
        expect(await host.exit).toEqual({ code: 0, signal: null });
        // Neither the socket (nor the name it was set aside under while the host decided) nor the lock.
        expect(readdirSync(jenv.homeDir).filter((f) => f.startsWith('router-host'))).toEqual([]);
      } finally {
        await cleanUp(jenv, s.kernel);
      }
    });
  }, TEST_TIMEOUT_MS);

  it('forwards the human stderr line of a requirement that cannot be planned, naming the session log', async () => {
    await withJupyterEnv(async (jenv) => {
      await fleet(jenv);
      startRouterHost(jenv.env);
      const s = await openSession(jenv, ['--runtime', 'nosuch']);
      try {
        await s.stub.listening();
        // Each stderr message is what a standalone router writes at once: one human line.
        const first = await s.stub.next((m): m is { stderr: string } => 'stderr' in m);
        const logFile = join(jenv.homeDir, 'logs', `router-${s.kernel.pid}.log`);
        expect(first.stderr).toMatch(/^llmspell-fleet: cannot plan a backend: unknown runtime "nosuch" \(from argv\).*\n$/);
        expect(first.stderr.endsWith(` (details: ${logFile})\n`)).toBe(true);
        s.stub.signal('SIGTERM');
        expect(await s.stub.exit()).toBe(0);
      } finally {
        await cleanUp(jenv, s.kernel);
      }
    });
  }, TEST_TIMEOUT_MS);

  it("the host's own SIGTERM ends every session (each stub gets its exit), then the host exits 0", async () => {
    await withJupyterEnv(async (jenv) => {
      await fleet(jenv);
      const host = startRouterHost(jenv.env);
      const a = await openSession(jenv, NO_BACKEND);
      const b = await openSession(jenv, NO_BACKEND);
      try {
        await Promise.all([a.stub.listening(), b.stub.listening()]);
        host.child.kill('SIGTERM');
        expect(await Promise.all([a.stub.exit(), b.stub.exit()])).toEqual([0, 0]);
        expect(await host.exit).toEqual({ code: 0, signal: null });
        expect(existsSync(hostSocket(jenv.homeDir))).toBe(false);
      } finally {
        await cleanUp(jenv, a.kernel, b.kernel);
      }
    });
  }, TEST_TIMEOUT_MS);

  it("stops a session whose kernel's JPY_PARENT_PID dies, as a standalone router stops", async () => {
    await withJupyterEnv(async (jenv) => {
      await fleet(jenv);
      startRouterHost(jenv.env);
      const parent = kernelProcess(jenv.env);
      const kernel = kernelProcess(jenv.env);
      const { file } = await writeClientConnectionFile(jenv);
      const stub = await StubSide.connect(hostSocket(jenv.homeDir), helloFor({ pid: kernel.pid, cwd: jenv.dir, env: { ...jenv.env, JPY_PARENT_PID: String(parent.pid) }, routerArgs: ['--connection-file', file, ...NO_BACKEND] }));
      try {
        await stub.listening();
        await parent.stop();
        expect(await stub.exit()).toBe(0);
        expect(readLog(jenv, kernel.pid)).toContain('parent process exited');
      } finally {
        await cleanUp(jenv, parent, kernel);
      }
    });
  }, TEST_TIMEOUT_MS);

  it('answers a malformed first line with a reason on stderr and exit 1', async () => {
    await withJupyterEnv(async (jenv) => {
      await fleet(jenv);
      startRouterHost(jenv.env);
      const stub = await StubSide.connect(hostSocket(jenv.homeDir), '{"v":1,"pid":"x"}\n');
      try {
        await stub.closed;
        expect(stub.messages).toEqual([{ stderr: expect.stringMatching(/^llmspell-fleet: the router host cannot serve this kernel: its first line is malformed: pid must be a number/) as unknown }, { exit: 1 }]);
      } finally {
        await cleanUp(jenv);
      }
    });
  }, TEST_TIMEOUT_MS);
});

describe('router host through the real kernel stub', () => {
  it('jupyter_client starts the installed shared-mode kernelspec (the stub), runs a cell through the host, and the stub exits 0 on shutdown', async () => {
    await withJupyterEnv(async (jenv) => {
      await fleet(jenv);
      expect(existsSync(STUB), `${STUB} is missing: npm run build builds it (scripts/setup.sh installs gcc)`).toBe(true);
      await cli(jenv, ['install', '--prefix', jenv.dir, '--router-mode', 'shared']);
      const spec = JSON.parse(readFileSync(join(jenv.kernelsDir, 'llmspell-fleet', 'kernel.json'), 'utf8')) as { argv: string[] };
      expect(spec.argv.slice(0, 4)).toEqual([STUB, process.execPath, join(REPO_ROOT, 'dist', 'bundle', 'main.js'), 'router']);
      try {
        const run = await runPython<ExecuteRecord & { kernel_pid: number | null; returncode: number | null }>('host_execute_check.py', ['--kernel', 'llmspell-fleet', 'print("via the stub", 3 * 3)'], { env: jenv.env, timeoutMs: 120_000 });
        const why = describeRun('host_execute_check', run);
        expect(run.result, why).toMatchObject({ ok: true, stdout: 'via the stub 9\n', shutdown: true, returncode: 0 });
        const pid = run.result!.kernel_pid!;
        // The session ran in the host (not the standalone router the stub falls back to), under the stub's pid.
        const hostLog = readFileSync(join(jenv.homeDir, 'logs', 'router-host.log'), 'utf8');
        expect(hostLog, hostLog).toContain(`"pid":${pid},"connectionFile"`);
        expect(hostLog).toMatch(new RegExp(`"pid":${pid},"code":0,"msg":"session ended"`));
        expect(readLog(jenv, pid)).toContain('"msg":"router listening"');
        // The host the stub started serves on, for the next notebook.
        expect(existsSync(hostSocket(jenv.homeDir))).toBe(true);
      } finally {
        await cleanUp(jenv);
      }
    });
  }, TEST_TIMEOUT_MS);
});
