/**
 * The fleet CLI end to end: the built CLI against a real manager (autostarted by the first
 * command) and backends that follow llmspell's launch contract (the stand-in kernel), checked
 * with a real Jupyter client. One fleet home for the whole file; the steps build on each other.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, makeJupyterEnv, REPO_ROOT, runPython, type JupyterEnv } from '../helpers/e2e.js';
import { CLI } from '../helpers/fleet-env.js';
import { isRunning, waitForNoProcesses } from '../helpers/processes.js';
import { runToExit, type CommandRun } from '../helpers/run.js';

const STANDIN = join(REPO_ROOT, 'test', 'fixtures', 'llmspell-standin.mjs');
/** A provider env value that must never show up in any output. */
const SECRET = 'sk-e2e-never-print-this-0123456789';

const FLEET_TOML = `
default_runtime = "standin"
default_provider = "openai"
linger_seconds = 600

[runtimes.standin]
argv = ["node", ${JSON.stringify(STANDIN)}, "kernel", "start", "--port", "0", "--id", "{kernel_id}", "--connection-file", "{connection_file}"]
connection = "kernel-writes"
language = "lua"

[runtimes.missing]
argv = ["llmspell-fleet-no-such-program", "kernel", "start", "--connection-file", "{connection_file}"]
connection = "kernel-writes"

[providers.openai]
env = { LLMSPELL_PROVIDER = "openai", STANDIN_API_KEY = "${SECRET}" }
`;

type CliRun = CommandRun;

interface Rec {
  kernelId: string;
  pid: number;
  requirement: { runtime: string; provider: string; group?: string };
  state: string;
  connectionFile: string;
  logFile: string;
  ports: number[];
  ip: string;
  clients: number;
  uptimeMs: number;
  startedAt: number;
}

let jenv: JupyterEnv;

function fleet(args: string[], env: NodeJS.ProcessEnv = jenv.env): Promise<CliRun> {
  return runToExit(process.execPath, [CLI, ...args], { env });
}

const show = (r: CliRun) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

async function ok(args: string[]): Promise<CliRun> {
  const r = await fleet(args);
  expect(r.code, `${args.join(' ')}: ${show(r)}`).toBe(0);
  expect(r.stdout + r.stderr).not.toContain(SECRET);
  return r;
}

async function json<T>(args: string[]): Promise<T> {
  return JSON.parse((await ok([...args, '--json'])).stdout) as T;
}

async function failing(args: string[]): Promise<CliRun> {
  const r = await fleet(args);
  expect(r.code, `${args.join(' ')} should fail: ${show(r)}`).not.toBe(0);
  expect(r.stderr, show(r)).toMatch(/llmspell-fleet: |error: /);
  return r;
}

async function waitGone(pid: number, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while ((await isRunning(pid)) && Date.now() < deadline) await delay(50);
  expect(await isRunning(pid), `pid ${pid} still running`).toBe(false);
}

/** Ask the manager to exit (op shutdown), straight over its socket. */
function shutdownManager(home: string): Promise<void> {
  const socket = join(home, 'manager.sock');
  if (!existsSync(socket)) return Promise.resolve();
  return new Promise((resolve) => {
    const conn = connect(socket);
    const done = () => {
      conn.destroy();
      resolve();
    };
    conn.setTimeout(10_000, done);
    conn.on('error', done);
    conn.on('close', done);
    conn.on('connect', () => conn.write(`${JSON.stringify({ id: 1, op: 'shutdown' })}\n`));
    conn.on('data', done);
  });
}

const KERNEL_INFO = `
import json, sys
from jupyter_client import BlockingKernelClient
kc = BlockingKernelClient()
kc.load_connection_file(sys.argv[1])
kc.start_channels()
try:
    reply = kc.kernel_info(reply=True, timeout=30)
    print(json.dumps({"status": reply["content"]["status"], "protocol": reply["content"].get("protocol_version")}))
finally:
    kc.stop_channels()
`;

describe('llmspell-fleet CLI against a real fleet manager', () => {
  const ids: Record<'found' | 'spawned' | 'grouped', string> = { found: '', spawned: '', grouped: '' };
  let found: Rec;
  let grouped: Rec;
  let spawned: Rec;

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
    jenv = await makeJupyterEnv();
    await writeFile(join(jenv.homeDir, 'fleet.toml'), FLEET_TOML, { mode: 0o600 });
  });

  afterAll(async () => {
    if (jenv === undefined) return;
    try {
      await fleet(['stop-all']);
      await shutdownManager(jenv.homeDir);
      await waitForNoProcesses(jenv.dir, 60_000);
    } finally {
      await jenv.cleanup();
    }
  });

  it('find starts a backend and returns the same one twice; its connection file works with jupyter_client', async () => {
    const first = await ok(['find', '--runtime', 'standin', '--provider', 'openai']);
    const lines = first.stdout.split('\n').filter((l) => l !== '');
    expect(lines, show(first)).toHaveLength(1);
    const file = lines[0] as string;
    expect(existsSync(file)).toBe(true);
    // defaults come from fleet.toml: the same requirement, the same backend
    const second = await ok(['find']);
    expect(second.stdout).toBe(first.stdout);

    const run = await runPython<{ status: string }>('-c', [KERNEL_INFO, file], { env: jenv.env, timeoutMs: 60_000 });
    expect(run.result?.status, describeRun('kernel_info', run)).toBe('ok');

    found = await json<Rec>(['find', '--runtime', 'standin', '--provider', 'openai']);
    expect(found.connectionFile).toBe(file);
    ids.found = found.kernelId;
  });

  it('spawn starts a new backend even when one matches, and prints id, pid and connection file', async () => {
    const r = await ok(['spawn', '--runtime', 'standin', '--provider', 'openai']);
    const id = /^id +(\S+)$/m.exec(r.stdout)?.[1];
    const pid = /^pid +(\d+)$/m.exec(r.stdout)?.[1];
    const file = /^connection file +(\S+)$/m.exec(r.stdout)?.[1];
    expect(id, show(r)).toBeDefined();
    expect(id).not.toBe(ids.found);
    expect(Number(pid)).toBeGreaterThan(1);
    expect(existsSync(file as string)).toBe(true);
    ids.spawned = id as string;

    grouped = await json<Rec>(['spawn', '--group', 'team-a']);
    expect(grouped.requirement).toEqual({ runtime: 'standin', provider: 'openai', group: 'team-a' });
    ids.grouped = grouped.kernelId;
  });

  it('keeps the fleet home private: dirs 0700, files 0600, and no provider secret in any file it writes', async () => {
    await ok(['find', '--runtime', 'standin', '--provider', 'openai']);
    const records = await json<{ kernelId: string }[]>(['list']);
    // A backend's own log is what the backend printed, and fleet.toml is the user's own file
    // that holds the secret: the fleet vouches for neither.
    const notOurs = new Set([...records.map((r) => `${r.kernelId}.log`), 'fleet.toml']);
    const seen: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        const mode = (await stat(path)).mode & 0o777;
        if (entry.isDirectory()) {
          expect(mode.toString(8), `${path} mode`).toBe('700');
          await walk(path);
          continue;
        }
        expect(mode.toString(8), `${path} mode`).toBe('600');
        seen.push(path.slice(jenv.homeDir.length + 1));
        if (!entry.isFile() || notOurs.has(entry.name)) continue;
        expect(await readFile(path, 'utf8'), `${path} holds the provider secret`).not.toContain(SECRET);
      }
    };
    expect((await stat(jenv.homeDir)).mode & 0o777).toBe(0o700);
    await walk(jenv.homeDir);
    expect(seen).toEqual(expect.arrayContaining(['registry.json', 'manager.sock', join('logs', 'manager.log')]));
  });

  it('list shows every backend with its fields and no secrets', async () => {
    const key = (JSON.parse(await readFile(found.connectionFile, 'utf8')) as { key: string }).key;
    const r = await ok(['list', '--json']);
    expect(r.stdout).not.toContain(key);
    const list = JSON.parse(r.stdout) as Rec[];
    expect(list.map((b) => b.kernelId).sort()).toEqual(Object.values(ids).sort());
    for (const b of list) {
      expect(b).toMatchObject({ state: 'ready', ip: '127.0.0.1', requirement: { runtime: 'standin', provider: 'openai' } });
      expect(b.ports).toHaveLength(5);
      expect(b.clients).toBe(0);
      expect(b.uptimeMs).toBeGreaterThanOrEqual(0);
      expect(Object.keys(b)).not.toContain('key');
      expect(Object.keys(b)).not.toContain('env');
      expect(await isRunning(b.pid)).toBe(true);
    }
    spawned = list.find((b) => b.kernelId === ids.spawned) as Rec;
    grouped = list.find((b) => b.kernelId === ids.grouped) as Rec;

    const human = await ok(['list']);
    const [header, ...rows] = human.stdout.trimEnd().split('\n');
    expect(header?.split(/\s+/)).toEqual(['ID', 'PID', 'RUNTIME', 'PROVIDER', 'GROUP', 'PORTS', 'CLIENTS', 'UPTIME', 'CPU', 'MEMORY', 'STATE']);
    expect(rows).toHaveLength(3);
    for (const id of Object.values(ids)) expect(human.stdout).toContain(id);
    // MEMORY is read from /proc when the manager does not report it
    expect(rows.every((row) => /\d+(\.\d)? (B|KiB|MiB|GiB)/.test(row))).toBe(true);
    // CPU from the manager's scan of the process groups
    expect(rows.every((row) => /\s\d+(\.\d)?%\s/.test(row)), rows.join('\n')).toBe(true);
  });

  it('health checks process and heartbeat of each backend', async () => {
    const human = await ok(['health']);
    expect(human.stdout.split('\n')[0]?.split(/\s+/)).toEqual(['ID', 'PID', 'PROCESS', 'HEARTBEAT', 'LATENCY', 'STATUS']);
    const reports = await json<{ kernelId: string; processAlive: boolean; heartbeat: boolean; healthy: boolean }[]>(['health']);
    expect(reports.map((h) => h.kernelId).sort()).toEqual(Object.values(ids).sort());
    expect(reports.every((h) => h.processAlive && h.heartbeat && h.healthy)).toBe(true);
  });

  it("logs prints a backend's log, by id or port, and --follow runs until SIGINT", async () => {
    const all = await ok(['logs', ids.found]);
    expect(all.stdout).toContain(`kernel ${ids.found} ready`);
    const byPort = await ok(['logs', String(found.ports[0])]);
    expect(byPort.stdout).toBe(all.stdout);
    const one = await ok(['logs', ids.found, '--lines', '1']);
    expect(one.stdout.split('\n').filter((l) => l !== '')).toHaveLength(1);

    const child = spawn(process.execPath, [CLI, 'logs', ids.found, '--follow'], { env: jenv.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const until = async (text: string): Promise<void> => {
      const deadline = Date.now() + 60_000;
      while (!out.includes(text) && Date.now() < deadline) await delay(50);
      expect(out).toContain(text);
    };
    await until(`kernel ${ids.found} ready`);
    // Following: a line appended to the backend's log shows up (and then Ctrl-C ends it).
    await appendFile(join(jenv.homeDir, 'logs', `${ids.found}.log`), 'appended while following\n');
    await until('appended while following');
    child.kill('SIGINT');
    expect(await exited).toBe(0);

    const unknown = await failing(['logs', 'standin-openai-00000000']);
    expect(unknown.stderr).toContain('standin-openai-00000000');
  });

  it('stop takes an id or a port; the process is gone afterwards', async () => {
    const byId = await ok(['stop', ids.spawned]);
    expect(byId.stdout).toContain(ids.spawned);
    await waitGone(spawned.pid);

    const port = grouped.ports[1] as number;
    await ok(['stop', String(port)]);
    await waitGone(grouped.pid);

    const left = await json<Rec[]>(['list']);
    expect(left.map((b) => b.kernelId)).toEqual([ids.found]);
    // the log of a stopped backend is still there to read (<home>/logs/<id>.log)
    expect((await ok(['logs', ids.spawned])).stdout).toContain(`kernel ${ids.spawned} ready`);
  });

  it('stop-all stops the rest and cleanup succeeds on an empty fleet', async () => {
    const more = await json<Rec>(['spawn']);
    await ok(['stop-all']);
    await waitGone(found.pid);
    await waitGone(more.pid);
    expect((await ok(['list'])).stdout).toBe('no backends running\n');
    expect(await json<unknown[]>(['list'])).toEqual([]);
    await ok(['cleanup']);
    await ok(['cleanup', '--json']);
  });

  it('errors exit non-zero with a one-line message', async () => {
    const unknownRuntime = await failing(['spawn', '--runtime', 'nope', '--provider', 'openai']);
    expect(unknownRuntime.stderr).toMatch(/^llmspell-fleet: unknown runtime "nope"/);
    await failing(['find', '--provider', 'nobody']);
    const stop = await failing(['stop', 'standin-openai-deadbeef']);
    expect(stop.stderr).toMatch(/^llmspell-fleet: /);
    await failing(['stop', '70000']);
    await failing(['logs', ids.found, '--lines', 'many']);
    await failing(['spawn', '--group', '../x']);
    // A bad value in fleet.toml: file, line, key path, the value and what is allowed.
    const badConfig = join(jenv.homeDir, 'bad-fleet.toml');
    await writeFile(badConfig, '[runtimes.standin]\nargv = ["x", "{connection_file}"]\nstartup_timeout = "slow"\n', { mode: 0o600 });
    const bad = await fleet(['find'], { ...jenv.env, LLMSPELL_FLEET_CONFIG: badConfig });
    expect(bad.code, show(bad)).not.toBe(0);
    expect(bad.stderr, show(bad)).toContain(`${badConfig}:3: runtimes.standin.startup_timeout must be a number > 0 (got "slow")`);
  });

  it('doctor says which runtimes can start and exits 0 while the default one can', async () => {
    const r = await ok(['doctor']);
    const line = (name: string) => r.stdout.split('\n').find((l) => l.includes(name)) ?? '';
    expect(line('runtime standin (default)'), r.stdout).toMatch(/^OK /);
    expect(line('runtime missing'), r.stdout).toMatch(/^FAIL .*llmspell-fleet-no-such-program not found/);
    expect(r.stdout).toMatch(/fix: install llmspell-fleet-no-such-program/);
    expect(line('runtime lua'), r.stdout).toMatch(/^FAIL /);
    expect(line('fleet home'), r.stdout).toMatch(/^OK /);
    expect(line('zeromq'), r.stdout).toMatch(/^OK /);
    expect(line('runtime javascript'), r.stdout).toMatch(/^OK /);
    expect(line('runtime python'), r.stdout).toMatch(/^OK /);

    const report = await json<{ ok: boolean; checks: { name: string; status: string }[] }>(['doctor']);
    expect(report.ok).toBe(true);
    expect(report.checks.find((c) => c.name === 'runtime missing')?.status).toBe('FAIL');

    const other = join(jenv.dir, 'other-fleet.toml');
    await writeFile(other, FLEET_TOML.replace('default_runtime = "standin"', 'default_runtime = "missing"'));
    const bad = await fleet(['doctor'], { ...jenv.env, LLMSPELL_FLEET_CONFIG: other });
    expect(bad.code, show(bad)).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL +runtime missing \(default\)/m);
    expect(bad.stderr).toMatch(/^llmspell-fleet: cannot start the default runtime/);

    // --home: another home, so no fleet.toml and the built-in default runtime (lua: no llmspell here)
    const elsewhere = await fleet(['doctor', '--json', '--home', join(jenv.dir, 'nohome')]);
    expect(elsewhere.code, show(elsewhere)).toBe(1);
    const checks = (JSON.parse(elsewhere.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks;
    expect(checks.find((c) => c.name === 'fleet home')?.detail).toContain('not created yet');
    expect(checks.find((c) => c.name === 'runtime lua (default)')?.status).toBe('FAIL');
  });
});
