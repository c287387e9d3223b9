/**
 * An idle manager exits, and linger covers every kind of backend, with real manager processes:
 * a manager started in the foreground as this test's child (so its exit is an event to await),
 * the built CLI, and the llmspell stand-in as backend. Each test ends with no process of its
 * fleet home left, checked before the usual cleanup (which would stop a manager itself).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { managerLockPath, managerSocketPath } from '../../src/fleet/manager/files.js';
import type { BackendHandle } from '../../src/fleet/manager/protocol.js';
import { makeJupyterEnv, type JupyterEnv } from '../helpers/e2e.js';
import { CLI, standinFleetToml } from '../helpers/fleet-env.js';
import { isRunning, processesReferencing } from '../helpers/processes.js';
import { runToExit, type CommandRun } from '../helpers/run.js';

const OPENAI = { runtime: 'standin', provider: 'openai' };

let jenv: JupyterEnv;
let home: string;
let configFile: string;
let env: NodeJS.ProcessEnv;

async function writeConfig(options: { idle: number; linger: number }): Promise<void> {
  await writeFile(configFile, standinFleetToml({ top: [`linger_seconds = ${options.linger}`, `manager_idle_seconds = ${options.idle}`] }));
}

interface Foreground {
  child: ChildProcess;
  /** Exit code, once it exits. */
  exited: Promise<number | null>;
  /** Its log so far (pino JSON lines on stderr). */
  log(): string;
}

/** `llmspell-fleet manager --foreground` as our child, listening once this resolves. */
async function startManager(): Promise<Foreground> {
  const child = spawn(process.execPath, [CLI, 'manager', '--foreground'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const listening = new Promise<void>((resolve, reject) => {
    const onData = () => {
      if (log.includes('fleet manager listening')) resolve();
    };
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`manager exited (${code}) before listening:\n${log}`)));
  });
  await listening;
  return { child, exited, log: () => log };
}

function fleet(args: string[]): Promise<CommandRun> {
  return runToExit(process.execPath, [CLI, ...args], { env, timeoutMs: 60_000 });
}

async function ok(args: string[]): Promise<string> {
  const r = await fleet(args);
  expect(r.code, `${args.join(' ')}: exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

async function until(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every manager (ours or autostarted) and backend of this test has gone by itself. */
async function nothingLeft(): Promise<void> {
  await until(async () => (await processesReferencing(jenv.dir)).length === 0, 'every process of the fleet home to exit by itself');
}

// Each test gets a fresh Jupyter env and fleet home; its config is written by the test (writeConfig).
beforeEach(async () => {
  jenv = await makeJupyterEnv();
  home = join(jenv.dir, 'fleet');
  configFile = join(jenv.dir, 'fleet.toml');
  env = { ...jenv.env, LLMSPELL_FLEET_HOME: home, LLMSPELL_FLEET_CONFIG: configFile };
});

afterEach(async () => {
  await jenv.cleanup();
});

const IDLE_EXIT = /"msg":"no backend, client or request for manager_idle_seconds/;

describe('an idle fleet manager exits', () => {
  it('with nothing to hold it for manager_idle_seconds: it exits cleanly and the next command starts one again', async () => {
    await writeConfig({ idle: 1, linger: 0 });
    const manager = await startManager();
    expect(await manager.exited).toBe(0);
    expect(manager.log()).toMatch(IDLE_EXIT);
    expect(existsSync(managerSocketPath(home))).toBe(false);
    expect(existsSync(managerLockPath(home))).toBe(false);

    // The next command autostarts a manager as ever; that one, idle too, goes by itself.
    expect(JSON.parse(await ok(['list', '--json']))).toEqual([]);
    const log = await readFile(join(home, 'logs', 'manager.log'), 'utf8');
    expect(log).toContain('starting the fleet manager');
    await nothingLeft();
    expect((await readFile(join(home, 'logs', 'manager.log'), 'utf8')).match(IDLE_EXIT)).toHaveLength(1);
  }, 90_000);

  it('a backend holds it; once the backend is stopped it exits after the idle time', async () => {
    await writeConfig({ idle: 1, linger: 600 });
    const manager = await startManager();
    let exited = false;
    void manager.exited.then(() => (exited = true));
    const spawned = JSON.parse(await ok(['spawn', '--json'])) as { kernelId: string; pid: number };
    // Fleet commands for well over the idle time: each finds the same manager and backend (a
    // manager that had exited would have been replaced, and would have taken no backend along).
    const since = Date.now();
    while (Date.now() - since < 3000) {
      const listed = JSON.parse(await ok(['list', '--json'])) as { kernelId: string }[];
      expect(listed.map((r) => r.kernelId)).toEqual([spawned.kernelId]);
    }
    expect(exited).toBe(false);
    expect(manager.log()).not.toMatch(IDLE_EXIT);

    await ok(['stop', spawned.kernelId]);
    expect(await manager.exited).toBe(0);
    expect(manager.log()).toMatch(IDLE_EXIT);
    expect(await isRunning(spawned.pid)).toBe(false);
    await nothingLeft();
  }, 90_000);

  it('an open HTTP event stream holds it; once its client leaves it exits after the idle time', async () => {
    await writeConfig({ idle: 1, linger: 600 });
    const manager = await startManager();
    let exited = false;
    void manager.exited.then(() => (exited = true));
    // The backend holds the manager until the stream is open.
    const spawned = JSON.parse(await ok(['spawn', '--json'])) as { kernelId: string; pid: number };
    const http = JSON.parse(await readFile(join(home, 'http.json'), 'utf8')) as { url: string; token: string };
    const abort = new AbortController();
    const stream = await fetch(`${http.url}/api/v1/events`, { headers: { authorization: `Bearer ${http.token}` }, signal: abort.signal });
    expect(stream.status).toBe(200);
    await ok(['stop', spawned.kernelId]);
    // Nothing but the stream now, for well over the idle time (on a slow machine this only
    // makes the check weaker, never wrong).
    await Promise.race([manager.exited, new Promise((r) => setTimeout(r, 3000))]);
    expect(exited).toBe(false);
    expect(manager.log()).not.toMatch(IDLE_EXIT);

    abort.abort();
    expect(await manager.exited).toBe(0);
    expect(manager.log()).toMatch(IDLE_EXIT);
    await nothingLeft();
  }, 90_000);

  it('many fleet commands while managers keep exiting: every one is answered', async () => {
    await writeConfig({ idle: 0.05, linger: 0 });
    // Commands in overlapping waves with gaps, so that some land while a manager decides to exit.
    const runs: Promise<CommandRun>[] = [];
    for (let wave = 0; wave < 6; wave++) {
      const batch = Array.from({ length: 6 }, (_, i) => new Promise<CommandRun>((resolve) => setTimeout(() => resolve(fleet(['list', '--json'])), i * 60)));
      runs.push(...batch);
      await Promise.all(batch);
    }
    const results = await Promise.all(runs);
    for (const r of results) expect(r.code, `list: exit ${r.code}\n${r.stdout}\n${r.stderr}`).toBe(0);
    for (const r of results) expect(JSON.parse(r.stdout)).toEqual([]);
    await nothingLeft();
    const log = await readFile(join(home, 'logs', 'manager.log'), 'utf8');
    // Managers did exit in between (so the commands raced exits), and each exit was an idle one.
    const exits = log.match(new RegExp(IDLE_EXIT.source, 'g')) ?? [];
    expect(exits.length).toBeGreaterThan(1);
  }, 180_000);
});

describe('linger covers backends nobody attached to', () => {
  it('linger 0 stops adopted backends with no client: one no router ever used, one whose router gave up during start-up', async () => {
    await writeConfig({ idle: 1, linger: 600 });
    const first = await startManager();
    const spawned = JSON.parse(await ok(['spawn', '--json'])) as { kernelId: string; pid: number };
    // A router process: acquires over its own connection, then is gone (as one that gave up).
    const routerScript = `
      const net = require('node:net');
      const s = net.createConnection(${JSON.stringify(managerSocketPath(home))});
      s.on('connect', () => s.write(JSON.stringify({ id: 1, op: 'acquire', requirement: ${JSON.stringify({ ...OPENAI, group: 'own' })}, routerId: 'gave-up', pid: process.pid }) + '\\n'));
      s.on('data', (b) => { process.stdout.write(b); });`;
    const router = spawn(process.execPath, ['-e', routerScript], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const routerExited = once(router, 'exit');
    const [answer] = (await once(createInterface({ input: router.stdout! }), 'line')) as [string];
    const acquired = (JSON.parse(answer) as { result: BackendHandle }).result;
    expect(acquired.record.attached).toEqual([{ routerId: 'gave-up', pid: router.pid }]);
    const pids = [spawned.pid, acquired.record.pid];
    expect(new Set(pids).size).toBe(2);

    // The manager dies while both run (the registry keeps the router's attachment), then the router goes.
    first.child.kill('SIGKILL');
    await first.exited;
    router.kill('SIGKILL');
    await routerExited;
    for (const pid of pids) expect(await isRunning(pid)).toBe(true);

    // linger 0 now: the next manager adopts both and stops both, with no re-attach grace for a router that is gone.
    await writeConfig({ idle: 1, linger: 0 });
    const next = await startManager();
    expect(next.log()).toContain(`"adopted":[`);
    for (const id of [spawned.kernelId, acquired.record.kernelId]) expect(next.log()).toContain(`"${id}"`);
    expect(await next.exited).toBe(0);
    for (const pid of pids) expect(await isRunning(pid)).toBe(false);
    expect(next.log().match(/"why":"linger".*"msg":"stopping backend"|"msg":"stopping backend".*"why":"linger"/g)).toHaveLength(2);
    await nothingLeft();
  }, 90_000);

  it('a backend whose requester went away before attaching is stopped after linger', async () => {
    await writeConfig({ idle: 1, linger: 0 });
    const manager = await startManager();
    // Acquire over a connection closed at once: the backend starts for a router that is gone.
    const gone = connect(managerSocketPath(home));
    await once(gone, 'connect');
    gone.end(JSON.stringify({ id: 1, op: 'acquire', requirement: OPENAI, routerId: 'vanished', pid: process.pid }) + '\n');
    await once(gone, 'close');
    // A backend holds the manager: its exit says the backend was stopped first.
    expect(await manager.exited).toBe(0);
    const stop = /"backendPid":(\d+),"why":"linger","msg":"stopping backend"/.exec(manager.log());
    expect(stop, manager.log()).not.toBeNull();
    expect(manager.log()).toMatch(IDLE_EXIT);
    expect(await isRunning(Number(stop?.[1]))).toBe(false);
    await nothingLeft();
  }, 90_000);
});
