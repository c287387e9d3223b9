import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackendProcess, exitReason, redactArgv, routerConnectionInfo } from '../../../src/fleet/backend-process.js';
import type { LaunchPlan } from '../../../src/fleet/types.js';
import { isFleetError, type FleetError } from '../../../src/shared/errors.js';
import { createLogger } from '../../../src/shared/log.js';
import { pollUntil } from '../../../src/shared/process.js';
import { JupyterClient } from '../../../src/wire/client.js';
import type { WireMessage } from '../../../src/wire/codec.js';
import { parseConnectionInfo, type ConnectionInfo } from '../../../src/wire/connection-file.js';
import { waitForReady } from '../../../src/wire/ready.js';
import { Z85_KEY } from '../../../src/wire/curve.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const STANDIN = join(root, 'test/fixtures/llmspell-standin.mjs');
const CRASH = join(root, 'test/fixtures/crash-on-start.mjs');
const PYTHON = join(root, '.venv/bin/python');
const NODE = process.execPath;

/** node -e scripts get the connection file as process.argv[1]; this makes a valid one appear. */
const WRITE_CONN = (extra = '{}') =>
  `require('fs').writeFileSync(process.argv[1], JSON.stringify({shell_port:1,iopub_port:2,stdin_port:3,control_port:4,hb_port:5,key:'k',...${extra}}), {mode:0o600});`;

let dir: string;
let launched: BackendProcess[];
let pids: number[];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-backend-'));
  launched = [];
  pids = [];
});

afterEach(async () => {
  // Safety net first, so a failed assertion never leaves a kernel running; then the real check.
  await Promise.all(launched.map((b) => b.stop({ graceMs: 500, killMs: 2000 })));
  for (const pid of [...pids, ...launched.map((b) => b.pid)]) expect(isGone(pid), `pid ${pid} left behind`).toBe(true);
  await rm(dir, { recursive: true, force: true });
});

function plan(overrides: Partial<LaunchPlan> & Pick<LaunchPlan, 'argv' | 'connection'>): LaunchPlan {
  const kernelId = overrides.kernelId ?? randomUUID();
  return {
    kernelId,
    requirement: { runtime: 'llmspell', provider: 'test' },
    env: {},
    interruptMode: 'signal',
    connectionFile: join(dir, 'runtime', `kernel-${kernelId}.json`),
    logFile: join(dir, 'logs', `${kernelId}.log`),
    startupTimeoutMs: 30_000,
    secretEnvKeys: [],
    ...overrides,
  };
}

function standinPlan(overrides: Partial<LaunchPlan> = {}): LaunchPlan {
  const kernelId = randomUUID();
  const connectionFile = join(dir, 'runtime', `kernel-${kernelId}.json`);
  return plan({
    kernelId,
    connectionFile,
    connection: 'kernel-writes',
    argv: [NODE, STANDIN, 'kernel', 'start', '--port', '0', '--id', kernelId, '--connection-file', connectionFile],
    ...overrides,
  });
}

function scriptPlan(script: string, overrides: Partial<LaunchPlan> = {}): LaunchPlan {
  const kernelId = randomUUID();
  const connectionFile = join(dir, 'runtime', `kernel-${kernelId}.json`);
  return plan({ kernelId, connectionFile, connection: 'kernel-writes', argv: [NODE, '-e', script, connectionFile], ...overrides });
}

async function launch(p: LaunchPlan, options: Parameters<typeof BackendProcess.launch>[1] = {}): Promise<BackendProcess> {
  const backend = await BackendProcess.launch(p, options);
  launched.push(backend);
  return backend;
}

async function launchError(p: LaunchPlan): Promise<FleetError> {
  const error = await BackendProcess.launch(p).then(
    (b) => {
      launched.push(b);
      throw new Error('launch unexpectedly succeeded');
    },
    (e: unknown) => e,
  );
  if (!isFleetError(error)) throw error;
  if (typeof error.context.pid === 'number') pids.push(error.context.pid);
  return error;
}

/** Gone, or a zombie nobody reaps (orphaned grandchildren under a non-reaping init). */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return true;
  }
}

/** One request on a wire client made for it. */
async function request(conn: ConnectionInfo, msgType: string, content: object = {}): Promise<WireMessage> {
  const client = new JupyterClient({ connection: conn, channels: ['shell'] });
  try {
    return await client.request(msgType, content, { timeoutMs: 30_000 });
  } finally {
    client.close();
  }
}

describe('pure helpers', () => {
  it.each([
    { termination: {}, exit: { exitCode: 0, signal: null }, expected: 'exited' },
    { termination: {}, exit: { exitCode: 3, signal: null }, expected: 'exited' },
    { termination: {}, exit: { exitCode: null, signal: 'SIGSEGV' as const }, expected: 'signalled' },
    { termination: { requested: 'stopped' as const }, exit: { exitCode: null, signal: 'SIGTERM' as const }, expected: 'stopped' },
    { termination: { requested: 'stopped' as const }, exit: { exitCode: 0, signal: null }, expected: 'stopped' },
    { termination: { requested: 'startup-failed' as const }, exit: { exitCode: null, signal: 'SIGKILL' as const }, expected: 'startup-failed' },
  ])('exitReason $termination $exit -> $expected', ({ termination, exit, expected }) => {
    expect(exitReason(termination, exit)).toBe(expected);
  });

  it.each([
    { argv: ['llmspell', 'kernel', 'start'], secrets: ['sk-123'], expected: ['llmspell', 'kernel', 'start'] },
    { argv: ['x', '--key=sk-123', 'sk-123'], secrets: ['sk-123'], expected: ['x', '[redacted]', '[redacted]'] },
    { argv: ['x', 'y'], secrets: [''], expected: ['x', 'y'] },
    { argv: [], secrets: ['s'], expected: [] },
  ])('redactArgv $argv', ({ argv, secrets, expected }) => {
    expect(redactArgv(argv, secrets)).toEqual(expected);
  });

  it('routerConnectionInfo assigns ports in channel order with a fresh 32-byte key', () => {
    const info = routerConnectionInfo([1, 2, 3, 4, 5]);
    expect(info).toMatchObject({ transport: 'tcp', ip: '127.0.0.1', shell_port: 1, iopub_port: 2, stdin_port: 3, control_port: 4, hb_port: 5, signature_scheme: 'hmac-sha256' });
    expect(info.key).toMatch(/^[0-9a-f]{64}$/);
    expect(routerConnectionInfo([1, 2, 3, 4, 5]).key).not.toBe(info.key);
    expect(() => routerConnectionInfo([1, 2, 3, 4])).toThrow(TypeError);
  });

  it.each([
    { name: 'empty argv', patch: { argv: [] } },
    { name: 'relative connection file', patch: { connectionFile: 'kernel.json' } },
    { name: 'relative log file', patch: { logFile: 'x.log' } },
    { name: 'zero timeout', patch: { startupTimeoutMs: 0 } },
    { name: 'unknown mode', patch: { connection: 'both' as never } },
  ])('launch rejects a plan with $name as a TypeError', async ({ patch }) => {
    await expect(BackendProcess.launch({ ...standinPlan(), ...patch })).rejects.toThrow(TypeError);
  });
});

describe('BackendProcess with the llmspell stand-in (kernel-writes)', () => {
  it('reads the connection file the kernel wrote, and stop() ends it and removes the file', async () => {
    const p = standinPlan();
    const backend = await launch(p);
    expect(backend.plan).toBe(p);
    expect(backend.alive).toBe(true);
    expect(() => process.kill(backend.pid, 0)).not.toThrow();
    const onDisk = parseConnectionInfo(await readFile(p.connectionFile, 'utf8'));
    expect(backend.connection).toEqual(onDisk);
    expect(backend.connection.kernel_name).toBe('llmspell');
    expect(backend.connection.key).toMatch(/^[0-9a-f]{64}$/);

    await backend.stop();
    expect(backend.alive).toBe(false);
    expect(isGone(backend.pid)).toBe(true);
    expect(existsSync(p.connectionFile)).toBe(false);
    expect(await backend.exited).toMatchObject({ signal: 'SIGTERM', exitCode: null, reason: 'stopped' });
  });

  it('passes argv and env (plan env + JPY_PARENT_PID) to the kernel, which answers kernel_info', async () => {
    const p = standinPlan({ env: { LLMSPELL_PROVIDER: 'anthropic' }, secretEnvKeys: [] });
    const backend = await launch(p);
    const reply = await request(backend.connection, 'kernel_info_request');
    expect(reply.msgType).toBe('kernel_info_reply');
    const content = reply.content<{ standin: { argv: string[]; provider: string; parentPid: string; pid: number } }>();
    expect(content.standin).toMatchObject({ argv: p.argv.slice(2), provider: 'anthropic', parentPid: String(process.pid), pid: backend.pid });
  });

  it('the stand-in echoes execute_request on iopub and replies on shell', async () => {
    const backend = await launch(standinPlan());
    const client = new JupyterClient({ connection: backend.connection });
    try {
      // Slow joiner: ask until our subscription is live, as clients do.
      await waitForReady(client, { timeoutMs: 30_000 });
      const feed = client.iopubMessages();
      const cell = client.start('execute_request', { code: 'print("hi")', silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }, { timeoutMs: 10_000 });
      expect((await cell.reply).content()).toMatchObject({ status: 'ok', execution_count: 1 });
      const seen: string[] = [];
      for await (const m of feed) {
        if (m.parentHeader.msg_id !== cell.msgId) continue;
        seen.push(m.msgType);
        if (m.msgType === 'stream') expect(m.content()).toEqual({ name: 'stdout', text: 'print("hi")' });
        if (m.msgType === 'status' && m.content().execution_state === 'idle') break;
      }
      expect(seen).toEqual(['status', 'execute_input', 'stream', 'execute_result', 'status']);
    } finally {
      client.close();
    }
  });

  it('the stand-in accepts global flags after the subcommand, as llmspell does', async () => {
    const p = standinPlan();
    p.argv.push('--profile', 'development');
    const backend = await launch(p);
    const reply = await request(backend.connection, 'kernel_info_request');
    expect(reply.content<{ standin: { profile: string } }>().standin.profile).toBe('development');
  });

  it.each([['--daemon'], ['--bogus']])('the stand-in refuses %s: BACKEND_EXITED with its message', async (flag) => {
    const p = standinPlan();
    p.argv.push(flag);
    const error = await launchError(p);
    expect(error.code).toBe('BACKEND_EXITED');
    expect(error.context.exitCode).toBe(2);
    expect(error.context.stderrTail).toContain(flag);
  });

  it('deletes a stale connection file before starting, so old ports are never used', async () => {
    const p = standinPlan();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dirname(p.connectionFile), { recursive: true });
    const stale = routerConnectionInfo([11, 12, 13, 14, 15]);
    await writeFile(p.connectionFile, JSON.stringify(stale));
    const backend = await launch(p);
    expect(backend.connection.key).not.toBe(stale.key);
    expect(backend.connection.shell_port).not.toBe(11);
  });

  it('stop() returns the same promise every time', async () => {
    const backend = await launch(standinPlan());
    const first = backend.stop();
    expect(backend.stop()).toBe(first);
    await first;
    expect(backend.stop({ graceMs: 1 })).toBe(first);
    expect(isGone(backend.pid)).toBe(true);
  });
});

describe('BackendProcess with ipykernel (router-writes)', () => {
  it('writes a 0600 connection file with 5 distinct ports that the kernel serves, then stops it', async () => {
    const kernelId = randomUUID();
    const connectionFile = join(dir, 'runtime', `kernel-${kernelId}.json`);
    const p = plan({
      kernelId,
      connectionFile,
      connection: 'router-writes',
      argv: [PYTHON, '-m', 'ipykernel_launcher', '-f', connectionFile],
      requirement: { runtime: 'python', provider: 'none' },
    });
    const backend = await launch(p);
    expect(backend.alive).toBe(true);
    expect(() => process.kill(backend.pid, 0)).not.toThrow();

    expect((await stat(connectionFile)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(connectionFile))).mode & 0o777).toBe(0o700);
    const onDisk = parseConnectionInfo(await readFile(connectionFile, 'utf8'));
    expect(onDisk).toEqual(backend.connection);
    const ports = [onDisk.shell_port, onDisk.iopub_port, onDisk.stdin_port, onDisk.control_port, onDisk.hb_port];
    expect(new Set(ports).size).toBe(5);
    expect(onDisk).toMatchObject({ transport: 'tcp', ip: '127.0.0.1', signature_scheme: 'hmac-sha256' });
    expect(onDisk.key).toMatch(/^[0-9a-f]{64}$/);

    const reply = await request(backend.connection, 'kernel_info_request');
    expect(reply.content()).toMatchObject({ status: 'ok', implementation: 'ipython' });

    await backend.stop();
    expect(isGone(backend.pid)).toBe(true);
    expect(existsSync(connectionFile)).toBe(false);
    expect((await backend.exited).reason).toBe('stopped');
  });
});

describe('BackendProcess with curve (router-writes, runtimes.X.curve = true)', () => {
  it('writes a fresh CurveZMQ pair the kernel serves with, answers a curve client, and never logs the secret', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    const launchCurve = async () => {
      const kernelId = randomUUID();
      const connectionFile = join(dir, 'runtime', `kernel-${kernelId}.json`);
      const p = plan({ kernelId, connectionFile, connection: 'router-writes', curve: true, argv: [PYTHON, '-m', 'ipykernel_launcher', '-f', connectionFile], requirement: { runtime: 'python', provider: 'none' } });
      return launch(p, { logger });
    };
    const backend = await launchCurve();
    const onDisk = parseConnectionInfo(await readFile(backend.plan.connectionFile, 'utf8'));
    expect(onDisk).toEqual(backend.connection);
    expect(onDisk.curve_publickey).toMatch(Z85_KEY);
    expect(onDisk.curve_secretkey).toMatch(Z85_KEY);

    expect((await request(backend.connection, 'kernel_info_request')).content()).toMatchObject({ status: 'ok' });
    // Each backend gets its own pair.
    const other = await launchCurve();
    expect(other.connection.curve_publickey).not.toBe(backend.connection.curve_publickey);
    await Promise.all([backend.stop(), other.stop()]);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(onDisk.curve_secretkey as string);
  });
});

describe('startup failures', () => {
  it('a kernel that exits during startup gives BACKEND_EXITED with the log tail', async () => {
    const p = scriptPlan('', { argv: [NODE, CRASH], requirement: { runtime: 'llmspell', provider: 'broken' } });
    const error = await launchError(p);
    expect(error.code).toBe('BACKEND_EXITED');
    expect(error.context).toMatchObject({ exitCode: 3, signal: null, runtime: 'llmspell', provider: 'broken', logFile: p.logFile });
    expect(error.context.stderrTail).toContain('deliberate failure');
    expect(error.message).toContain('deliberate failure');
    expect(error.message).toContain(p.logFile);
    expect(isGone(error.context.pid as number)).toBe(true);
    expect(existsSync(p.connectionFile)).toBe(false);
  });

  it('router-writes: launch returns at once; exited reports the crash with the log tail', async () => {
    const p = plan({ connection: 'router-writes', argv: [NODE, CRASH] });
    const backend = await launch(p);
    const exit = await backend.exited;
    expect(exit).toMatchObject({ exitCode: 3, signal: null, reason: 'exited' });
    expect(exit.stderrTail).toContain('deliberate failure');
    expect(backend.alive).toBe(false);
    expect(existsSync(p.connectionFile)).toBe(true);
    await backend.stop();
    expect(existsSync(p.connectionFile)).toBe(false);
  });

  it('a missing executable gives SPAWN_FAILED naming the config key, and leaves no connection file', async () => {
    const p = plan({ connection: 'router-writes', argv: ['llmspell-definitely-not-installed', 'kernel', 'start'] });
    const error = await launchError(p);
    expect(error.code).toBe('SPAWN_FAILED');
    expect(error.context).toMatchObject({ errno: 'ENOENT', file: 'llmspell-definitely-not-installed' });
    expect(error.message).toContain('not found on PATH');
    expect(error.message).toContain('runtimes.llmspell.argv');
    expect(existsSync(p.connectionFile)).toBe(false);
  });

  it('a missing working directory gives SPAWN_FAILED about the cwd, not the executable', async () => {
    const error = await launchError(standinPlan({ cwd: join(dir, 'nope') }));
    expect(error.code).toBe('SPAWN_FAILED');
    expect(error.context.cwd).toBe(join(dir, 'nope'));
  });

  // These two wait out a real timeout, which must outlast node's start on a busy machine (a
  // 400 ms one lost that race in a unit run beside other work): the kernel's first line has to
  // be written before the timer fires for the assertions to mean anything.
  const SLOW_START_MS = 4000;

  it('a kernel that never writes its file gives READY_TIMEOUT and is killed', async () => {
    const p = scriptPlan(`process.stderr.write('loading models\\n'); setInterval(() => {}, 1000)`, { startupTimeoutMs: SLOW_START_MS });
    const error = await launchError(p);
    expect(error.code).toBe('READY_TIMEOUT');
    expect(error.context).toMatchObject({ waitedFor: 'connection file', connectionFile: p.connectionFile, timeoutMs: SLOW_START_MS });
    expect(error.context.stderrTail).toBe('loading models');
    expect(error.message).toContain('runtimes.llmspell.startup_timeout');
    expect(error.message).toContain(p.logFile);
    expect(isGone(error.context.pid as number)).toBe(true);
  });

  it('a half-written file at timeout is reported as such', async () => {
    const p = scriptPlan(`require('fs').writeFileSync(process.argv[1], '{"shell_port": 1'); setInterval(() => {}, 1000)`, { startupTimeoutMs: SLOW_START_MS });
    const error = await launchError(p);
    expect(error.code).toBe('READY_TIMEOUT');
    expect(error.message).toContain('not valid JSON');
    expect(existsSync(p.connectionFile)).toBe(false);
  });
});

describe('signals and the process group', () => {
  it('interrupt() delivers SIGINT to the kernel', async () => {
    const script = `process.on('SIGINT', () => { process.stderr.write('got SIGINT\\n'); process.exit(42); }); ${WRITE_CONN()} setInterval(() => {}, 1000);`;
    const backend = await launch(scriptPlan(script));
    backend.interrupt();
    const exit = await backend.exited;
    expect(exit).toMatchObject({ exitCode: 42, reason: 'exited' });
    expect(exit.stderrTail).toContain('got SIGINT');
    // Once reaped, interrupt must not signal anything (the pid may belong to someone else).
    expect(() => backend.interrupt()).not.toThrow();
  });

  it('stop() ends the whole process group, grandchildren included', async () => {
    const script =
      `const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });` +
      `${WRITE_CONN('{grandchild_pid: c.pid}')} setInterval(() => {}, 1000);`;
    const backend = await launch(scriptPlan(script));
    const grandchild = backend.connection.grandchild_pid as number;
    pids.push(grandchild);
    expect(isGone(grandchild)).toBe(false);
    await backend.stop();
    // The group got SIGTERM together; the grandchild dies when the kernel next schedules it, which
    // on a busy machine can be after the leader's exit was seen. No event exists for a stranger's pid.
    expect(await pollUntil(() => isGone(grandchild), 10_000)).toBe(true);
  });

  it('a kernel that ignores SIGTERM is killed after graceMs', async () => {
    const script = `process.on('SIGTERM', () => {}); ${WRITE_CONN()} setInterval(() => {}, 1000);`;
    const backend = await launch(scriptPlan(script));
    await backend.stop({ graceMs: 200, killMs: 3000 });
    expect(await backend.exited).toMatchObject({ signal: 'SIGKILL', reason: 'stopped' });
  });

  it('the backend is in its own process group, apart from ours', async () => {
    const backend = await launch(standinPlan());
    const fields = readFileSync(`/proc/${backend.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const pgid = Number(fields[2]);
    expect(pgid).toBe(backend.pid);
    const ours = Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[2]);
    expect(pgid).not.toBe(ours);
  });
});

describe('logs', () => {
  it('appends output to a 0600 log in a 0700 directory and never logs secret env values', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
    const secret = 'sk-test-0123456789-very-secret';
    const p = standinPlan({ env: { OPENAI_API_KEY: secret, LLMSPELL_PROVIDER: 'openai' }, secretEnvKeys: ['OPENAI_API_KEY'] });
    p.argv.push('--trace', `key=${secret}`);
    const backend = await launch(p, { logger });
    // The stand-in writes its banner after the connection file: wait for it (bounded) before stopping.
    const deadline = Date.now() + 10_000;
    while (!(await readFile(p.logFile, 'utf8')).includes('llmspell-standin: kernel') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await backend.stop();
    const text = lines.join('');
    expect(text).toContain('backend spawned');
    expect(text).toContain(backend.pid.toString());
    expect(text).not.toContain(secret);

    expect((await stat(p.logFile)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(p.logFile))).mode & 0o777).toBe(0o700);
    const log = await readFile(p.logFile, 'utf8');
    expect(log).toContain(`starting llmspell/test backend (kernel ${p.kernelId})`);
    expect(log).toContain('llmspell-standin: kernel');
  });

  it('stderrTail holds only this run, not earlier runs appended to the same log', async () => {
    const first = scriptPlan('', { argv: [NODE, CRASH] });
    await launchError(first);
    const second = scriptPlan(`process.stderr.write('second run\\n'); process.exit(5)`, { logFile: first.logFile });
    const error = await launchError(second);
    expect(error.context.exitCode).toBe(5);
    expect(error.context.stderrTail).toBe('second run');
  });
});
