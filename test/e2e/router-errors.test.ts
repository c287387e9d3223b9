/**
 * When the router cannot give a client its backend, the client hears why, in words that say
 * what to fix, and the session never hangs: kernel_info is answered (its banner says what
 * failed), a cell gets an execute_reply with status error, iopub carries the reason on stderr,
 * and the router stays up until the client shuts it down. A backend that dies under a client
 * is announced too, the request it was running fails instead of hanging, and the router
 * (still the client's kernel) serves the next request from a new backend. Where the backend mode matters (how the backend is started), both are
 * run: through the fleet manager (the default) and started by the router itself
 * (LLMSPELL_FLEET_MODE=local).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JupyterClient } from '../../src/wire/client.js';
import type { WireMessage } from '../../src/wire/codec.js';
import type { ConnectionInfo } from '../../src/wire/connection-file.js';
import { executeCell } from '../../src/wire/execute.js';
import { waitForReady } from '../../src/wire/ready.js';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, REPO_ROOT, runPython, withJupyterEnv, type CheckResult, type JupyterEnv } from '../helpers/e2e.js';
import { stopFleetManager, writeClientConnectionFile } from '../helpers/fleet-env.js';
import { waitForNoProcesses } from '../helpers/processes.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const FLOOD_KERNEL = join(REPO_ROOT, 'test', 'fixtures', 'flood-kernel.mjs');
const CRASH_ON_START = join(REPO_ROOT, 'test', 'fixtures', 'crash-on-start.mjs');
const GHOST = '/nonexistent/llmspell-fleet-test/ghost-kernel';
const TEST_TIMEOUT_MS = 150_000;

type Mode = 'fleet' | 'local';
const MODES = ['fleet', 'local'] as const;

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A fleet.toml: defaults, then one runtime per entry (argv as given), and a provider "none". */
function toml(defaultRuntime: string, runtimes: Record<string, string[]>): string {
  const lines = [`default_runtime = "${defaultRuntime}"`, 'default_provider = "none"', 'linger_seconds = 0', '[providers.none]'];
  for (const [name, argv] of Object.entries(runtimes)) lines.push(`[runtimes.${name}]`, `argv = ${JSON.stringify(argv)}`);
  return lines.join('\n') + '\n';
}

interface Router {
  child: ChildProcess;
  info: ConnectionInfo;
  connectionFile: string;
  config: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log(): string;
}

async function startRouter(jenv: JupyterEnv, options: { config: string; args?: string[]; mode?: Mode; beforeStart?: (info: ConnectionInfo) => Promise<void> }): Promise<Router> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npx tsc -p tsconfig.json" first`);
  const config = join(jenv.dir, 'fleet.toml');
  await writeFile(config, options.config);
  const { file: connectionFile, info } = await writeClientConnectionFile(jenv);
  const env: NodeJS.ProcessEnv = { ...jenv.env, LLMSPELL_FLEET_CONFIG: config, JPY_PARENT_PID: String(process.pid) };
  for (const name of ['LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER', 'LLMSPELL_FLEET_MODE']) delete env[name];
  if (options.mode === 'local') env.LLMSPELL_FLEET_MODE = 'local';
  await options.beforeStart?.(info);
  const child = spawn(process.execPath, [CLI, 'router', '--connection-file', connectionFile, ...(options.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => stderr.push(b));
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const log = () => {
    const file = join(jenv.homeDir, 'logs', `router-${child.pid}.log`);
    const text = existsSync(file) ? readFileSync(file, 'utf8') : `(no ${file})`;
    return `router stderr:\n${Buffer.concat(stderr).toString('utf8')}\nrouter log (tail):\n${text.slice(-6000)}`;
  };
  return { child, info, connectionFile, config, exit, log };
}

/**
 * Starts a router, runs `body`, then stops whatever is left and checks that nothing the test
 * started still runs; a failure in `body` is never masked by one in that cleanup.
 */
async function withRouter(jenv: JupyterEnv, options: Parameters<typeof startRouter>[1], body: (router: Router) => Promise<void>): Promise<void> {
  const router = await startRouter(jenv, options);
  try {
    await body(router);
  } catch (error) {
    await finish(jenv, router).catch((cleanupError: unknown) => console.error(`[router-errors] cleanup after a failure: ${String(cleanupError)}`));
    throw error;
  }
  await finish(jenv, router);
}

/** Stops a router that is still running (SIGTERM, as VS Code does), then checks nothing is left. */
async function finish(jenv: JupyterEnv, router: Router): Promise<void> {
  if (router.child.exitCode === null && router.child.signalCode === null) {
    router.child.kill('SIGTERM');
    await within(router.exit, 30_000, 'router to exit on SIGTERM').catch(() => router.child.kill('SIGKILL'));
  }
  await stopFleetManager(jenv.homeDir);
  await waitForNoProcesses(jenv.dir, 60_000);
}

interface IopubRecord {
  msg_type: string;
  parent_msg_id: string | null;
  content: { name?: string; text?: string; ename?: string; evalue?: string; traceback?: string[] };
}

type ErrorCheckResult = CheckResult & {
  kernel_info: { implementation?: string; banner?: string; status?: string } | null;
  execute_msg_id: string | null;
  execute_reply: { status: string; ename?: string; evalue?: string; traceback?: string[]; execution_count?: unknown } | null;
  iopub: IopubRecord[];
  kernel_info_after: { status?: string } | null;
  shutdown_reply: { status?: string } | null;
};

/**
 * Runs error_check.py against the router; asserts the session completed (every request answered,
 * shutdown acknowledged, router exited 0 only after it) and returns what the client saw.
 */
async function clientSession(jenv: JupyterEnv, router: Router, readyTimeoutS = 60): Promise<{ result: ErrorCheckResult; why: string }> {
  const run = await runPython<ErrorCheckResult>('error_check.py', [router.connectionFile, '1+1', String(readyTimeoutS)], { env: jenv.env, timeoutMs: 100_000 });
  const why = `${describeRun('error_check', run)}\n${router.log()}`;
  const result = expectChecksPassed(run, { exactly: ['ready', 'kernel_info', 'execute', 'kernel_info_after', 'shutdown'] }, why);
  expect(result.kernel_info?.status, why).toBe('ok');
  expect(result.kernel_info_after?.status, `the router stopped answering after the error\n${why}`).toBe('ok');
  expect(result.shutdown_reply?.status, why).toBe('ok');
  expect(await within(router.exit, 30_000, 'router exit after shutdown_request'), why).toEqual({ code: 0, signal: null });
  return { result, why };
}

/** The failure as a cell error and on stderr; returns the execute_reply's evalue. */
function expectFleetError(result: ErrorCheckResult, why: string): string {
  const reply = result.execute_reply!;
  expect(reply, why).not.toBeNull();
  expect(reply.status, why).toBe('error');
  expect(reply.ename, why).toBe('FleetError');
  const evalue = reply.evalue ?? '';
  expect(evalue.length, why).toBeGreaterThan(0);
  // The same words reach the user on iopub, as stderr.
  const stderr = result.iopub.filter((m) => m.msg_type === 'stream' && m.content.name === 'stderr').map((m) => m.content.text ?? '');
  expect(stderr.some((t) => t.includes(evalue.split('\n')[0]!)), `no stderr stream carries "${evalue.split('\n')[0]}"\n${why}`).toBe(true);
  // Shown in the cell: notebooks render iopub output whose parent is the cell's request, never the
  // reply's traceback (JupyterLab's OutputArea), so the reason must also come with that parent.
  const inCell = result.iopub.filter(
    (m) => m.parent_msg_id === result.execute_msg_id && ((m.msg_type === 'error' && m.content.ename === 'FleetError') || (m.msg_type === 'stream' && m.content.name === 'stderr')),
  );
  expect(inCell.map((m) => m.msg_type), `no error or stderr output with the cell's request as parent: a notebook shows nothing in the cell\n${why}`).not.toEqual([]);
  // jupyter console computes int(content["execution_count"] + 1) for every execute_reply, error or not.
  expect(typeof reply.execution_count, `execute_reply.execution_count is ${JSON.stringify(reply.execution_count)}; the spec says int`).toBe('number');
  return evalue;
}

describe('router errors: clear reasons, and the session never hangs', () => {
  it.each(MODES)('names the runtime and the setting to fix when its executable does not exist (%s)', async (mode) => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, { mode, config: toml('ghost', { ghost: [GHOST, '{connection_file}'] }) }, async (router) => {
        const { result, why } = await clientSession(jenv, router);
        expect(result.kernel_info?.implementation, why).toBe('llmspell-fleet');
        const banner = result.kernel_info?.banner ?? '';
        expect(banner, why).toContain(GHOST);
        expect(banner, why).toContain('runtimes.ghost.argv');
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toContain(GHOST);
        expect(evalue, why).toContain('not found');
        expect(evalue, why).toContain('runtimes.ghost.argv');
      });
    });
  }, TEST_TIMEOUT_MS);

  it('a port of the connection file already taken: exits non-zero, saying which, on stderr and in its log', async () => {
    await withJupyterEnv(async (jenv) => {
      const taken = createServer();
      try {
        await withRouter(jenv, {
          // The manager this router started early has nobody to serve: it leaves by itself.
          config: 'manager_idle_seconds = 1\n' + toml('flood', { flood: [process.execPath, FLOOD_KERNEL, '{connection_file}'] }),
          beforeStart: (info) => new Promise<void>((resolve, reject) => taken.once('error', reject).listen(info.shell_port, '127.0.0.1', resolve)),
        }, async (router) => {
          const exit = await within(router.exit, 60_000, 'router to exit');
          const port = String(router.info.shell_port);
          expect(exit.code, router.log()).not.toBe(0);
          const [stderr, log] = router.log().split('router log (tail):');
          expect(stderr, router.log()).toContain(port);
          // Said once (the human line that names the log), not once more by the CLI's catch-all.
          expect(stderr!.split('Address already in use').length - 1, router.log()).toBe(1);
          expect(log, router.log()).toContain('router could not start');
          expect(log, router.log()).toContain('cannot bind');
          expect(log, router.log()).toContain(port);
        });
      } finally {
        taken.close();
      }
    });
  }, TEST_TIMEOUT_MS);

  it('lists the known runtimes and names the config file for an unknown --runtime', async () => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, {
        args: ['--runtime', 'nosuch'],
        config: toml('flood', { flood: [process.execPath, FLOOD_KERNEL, '{connection_file}'] }),
      }, async (router) => {
        const { result, why } = await clientSession(jenv, router);
        expect(result.kernel_info?.banner ?? '', why).toContain('nosuch');
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toContain('unknown runtime "nosuch"');
        // Every runtime the config knows (its own and the built-in ones), and where to add one.
        for (const known of ['flood', 'javascript', 'lua', 'python']) expect(evalue, why).toContain(known);
        expect(evalue, why).toContain(router.config);
        expect(evalue, why).toContain('[runtimes.nosuch]');
      });
    });
  }, TEST_TIMEOUT_MS);

  it('lists the known providers for an unknown --provider', async () => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, {
        args: ['--provider', 'nosuchai'],
        config: toml('flood', { flood: [process.execPath, FLOOD_KERNEL, '{connection_file}'] }),
      }, async (router) => {
        const { result, why } = await clientSession(jenv, router);
        expect(result.kernel_info?.banner ?? '', why).toContain('nosuchai');
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toContain('unknown provider "nosuchai"');
        for (const known of ['none', 'openai', 'anthropic', 'ollama']) expect(evalue, why).toContain(known);
        expect(evalue, why).toContain('[providers.nosuchai]');
      });
    });
  }, TEST_TIMEOUT_MS);

  it.each(MODES)('says so within startup_timeout when a backend never writes its connection file, and stops it (%s)', async (mode) => {
    await withJupyterEnv(async (jenv) => {
      // llmspell's contract (kernel-writes), broken: the process runs but never writes the file.
      const silent = [process.execPath, '-e', 'setInterval(() => {}, 1000)', '{connection_file}'];
      const config = [
        'default_runtime = "silent"', 'default_provider = "none"', 'linger_seconds = 0', '[providers.none]',
        '[runtimes.silent]', `argv = ${JSON.stringify(silent)}`, 'connection = "kernel-writes"', 'startup_timeout = 3', '',
      ].join('\n');
      await withRouter(jenv, { mode, config }, async (router) => {
        const { result, why } = await clientSession(jenv, router, 30);
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toContain('did not write its connection file');
        expect(evalue, why).toContain('within 3000 ms');
        expect(evalue, why).toContain('runtimes.silent.startup_timeout');
      });
    });
  }, TEST_TIMEOUT_MS);

  it('names the file and line of a fleet.toml that does not parse', async () => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, { config: 'default_runtime = "flood"\ndefault_provider = "none"\nlinger_seconds = = 5\n' }, async (router) => {
        const { result, why } = await clientSession(jenv, router);
        expect(result.kernel_info?.banner ?? '', why).toContain(router.config);
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toContain(`${router.config}:3:`);
        expect(evalue, why).toMatch(/TOML/);
      });
    });
  }, TEST_TIMEOUT_MS);

  it.each(MODES)('names the exit code and the last stderr line of a backend that crashes at start (%s)', async (mode) => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, { mode, config: toml('crash', { crash: [process.execPath, CRASH_ON_START, '{connection_file}'] }) }, async (router) => {
        // 30 s: a crash is known within a second; a client left waiting is the failure.
        const { result, why } = await clientSession(jenv, router, 30);
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toMatch(/code 3\b/);
        expect(evalue, why).toContain('crash-on-start: deliberate failure before binding any socket');
        expect(result.kernel_info?.banner ?? '', why).toMatch(/code 3\b/);
      });
    });
  }, TEST_TIMEOUT_MS);

  it.each(MODES)('tells clients on stderr when the backend is killed while running a cell, fails that cell, and serves the next request from a new backend (%s)', async (mode) => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, { mode, config: toml('flood', { flood: [process.execPath, FLOOD_KERNEL, '{connection_file}'] }) }, async (router) => {
        const client = new JupyterClient({ connection: router.info });
        try {
          await waitForReady(client, { timeoutMs: 30_000 });
          const backendPid = async (): Promise<number | undefined> => {
            const r = await within(client.request('kernel_info_request', {}), 30_000, `kernel_info_reply\n${router.log()}`);
            return r.content<{ flood_kernel?: { pid: number } }>().flood_kernel?.pid;
          };
          const pid = await backendPid();
          expect(pid, router.log()).toBeGreaterThan(1);
          const stderr = new Promise<WireMessage>((resolve) => {
            client.onIopub((m) => {
              if (m.msgType === 'stream' && m.content<{ name: string }>().name === 'stderr') resolve(m);
            });
          });
          // A cell is running when the backend dies.
          let cellId = '';
          const cellOutput: WireMessage[] = [];
          const busy = new Promise<void>((resolve) => {
            client.onIopub((m) => {
              if (m.parentHeader.msg_id !== cellId) return;
              cellOutput.push(m);
              if (m.msgType === 'status' && m.content<{ execution_state: string }>().execution_state === 'busy') resolve();
            });
          });
          const cell = client.start('execute_request', { code: 'block 60000', silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
          cellId = cell.msgId;
          await within(busy, 30_000, 'the cell to start');
          const cellIdle = new Promise<void>((resolve) => {
            client.onIopub((m) => {
              if (m.parentHeader.msg_id === cellId && m.msgType === 'status' && m.content<{ execution_state: string }>().execution_state === 'idle') resolve();
            });
          });

          process.kill(pid!, 'SIGKILL');
          const notice = await within(stderr, 30_000, `a stderr stream about the backend (pid ${pid}) exiting\n${router.log()}`);
          const text = notice.content<{ text: string }>().text;
          log(`${mode}: after SIGKILL of the backend: ${text.trim()}`);
          expect(text).toContain(`pid ${pid}`);
          expect(text).toMatch(/was killed by SIGKILL|exited/);

          // The running cell is finished, with an error, instead of hanging its client.
          const [reply] = await within(Promise.all([cell.reply, cellIdle]), 30_000, `execute_reply and idle for the cell the backend was running\n${router.log()}`);
          const content = reply.content<{ status: string; ename?: string; evalue?: string; execution_count?: unknown }>();
          expect(content.status, JSON.stringify(content)).toBe('error');
          expect(content.evalue ?? '', JSON.stringify(content)).toContain(`pid ${pid}`);
          expect(cellOutput.map((m) => m.msgType), 'no error or stderr output with the cell as parent: a notebook shows nothing in the cell').toContain('error');

          // The router stays up and the next request is served by a new backend.
          const deadline = Date.now() + 60_000;
          let next: number | undefined;
          while (Date.now() < deadline && (next === undefined || next === pid)) next = await backendPid().catch(() => undefined);
          expect(next, `no new backend answered kernel_info within 60 s\n${router.log()}`).toBeGreaterThan(1);
          expect(next).not.toBe(pid);
          let echoed = '';
          const again = await within(executeCell(client, 'after the crash', { onOutput: (m) => { if (m.msgType === 'stream') echoed += m.content<{ text: string }>().text; } }), 30_000, 'a cell on the new backend');
          expect(again.content<{ status: string }>().status).toBe('ok');
          expect(echoed).toBe('after the crash');
          expect(router.child.exitCode, 'the router exited').toBeNull();
          log(`${mode}: backend ${pid} killed; cell failed with "${content.evalue}"; new backend ${next} serves`);
        } finally {
          client.close();
        }
        // Still the client's kernel: it stops when asked, and only then.
        const shutdownReply = await within(controlRequest(router.info, 'shutdown_request', { restart: false }), 30_000, 'shutdown_reply');
        expect(shutdownReply.content<{ status: string }>().status).toBe('ok');
        expect(await within(router.exit, 30_000, 'router exit after shutdown_request')).toEqual({ code: 0, signal: null });
      });
    });
  }, TEST_TIMEOUT_MS);

  it('with router.restart_limit = 0 says restarts are off when the backend dies, and the next request starts a new one', async () => {
    await withJupyterEnv(async (jenv) => {
      const config = toml('flood', { flood: [process.execPath, FLOOD_KERNEL, '{connection_file}'] }).replace('[providers.none]', '[router]\nrestart_limit = 0\n[providers.none]');
      await withRouter(jenv, { mode: 'local', config }, async (router) => {
        const client = new JupyterClient({ connection: router.info });
        try {
          await waitForReady(client, { timeoutMs: 30_000 });
          const backendPid = async (): Promise<number | undefined> => {
            const r = await within(client.request('kernel_info_request', {}), 30_000, `kernel_info_reply\n${router.log()}`);
            return r.content<{ flood_kernel?: { pid: number } }>().flood_kernel?.pid;
          };
          const pid = await backendPid();
          const stderr = new Promise<string>((resolve) => {
            client.onIopub((m) => {
              if (m.msgType === 'stream' && m.content<{ name: string }>().name === 'stderr') resolve(m.content<{ text: string }>().text);
            });
          });
          process.kill(pid!, 'SIGKILL');
          const text = await within(stderr, 30_000, `a stderr stream about the backend exiting\n${router.log()}`);
          expect(text).toContain(`pid ${pid}`);
          expect(text).toContain('automatic restarts are off (router.restart_limit = 0)');
          const next = await backendPid();
          expect(next, router.log()).toBeGreaterThan(1);
          expect(next).not.toBe(pid);
        } finally {
          client.close();
        }
        const shutdownReply = await within(controlRequest(router.info, 'shutdown_request', { restart: false }), 30_000, 'shutdown_reply');
        expect(shutdownReply.content<{ status: string }>().status).toBe('ok');
      });
    });
  }, TEST_TIMEOUT_MS);
});

/** One request on control from a client of its own; resolves with its reply. */
async function controlRequest(info: ConnectionInfo, msgType: 'shutdown_request', content: { restart: boolean }): Promise<WireMessage<'shutdown_reply'>> {
  const client = new JupyterClient({ connection: info, channels: ['control'] });
  try {
    return await client.request(msgType, content, { channel: 'control' });
  } finally {
    client.close();
  }
}

function log(message: string): void {
  console.log(`[router-errors] ${message}`);
}
