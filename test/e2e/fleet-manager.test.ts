/**
 * The fleet manager as a real daemon: autostarted by a client, one per home, killed with
 * SIGKILL while a backend runs, replaced by a new one that adopts the backend, and the lease
 * semantics (a closed router connection with linger 0 stops the backend). Backends are the
 * llmspell stand-in, launched by llmspell's contract (kernel-writes, --port 0).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import { managerSocketPath } from '../../src/fleet/manager/files.js';
import { requestKernelInfo } from '../../src/fleet/manager/probe.js';
import type { BackendHandle, CleanupReport, ListedBackend, ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { makeJupyterEnv, REPO_ROOT, type JupyterEnv } from '../helpers/e2e.js';
import { standinFleet } from '../helpers/fleet-env.js';
import { isRunning, processesReferencing } from '../helpers/processes.js';

const run = promisify(execFile);
const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const OPENAI = { runtime: 'standin', provider: 'openai' };

/** What user `nobody` (uid 65534) gets when it tries the manager's socket and a connection file. */
async function asOtherUser(socketPath: string, connectionFile: string): Promise<{ connect: string; read: string }> {
  const script = `
    const net = require('node:net'); const fs = require('node:fs');
    let read; try { fs.readFileSync(${JSON.stringify(connectionFile)}); read = 'read'; } catch (e) { read = e.code; }
    const s = net.createConnection(${JSON.stringify(socketPath)});
    s.on('connect', () => { console.log(JSON.stringify({ connect: 'connected', read })); s.destroy(); });
    s.on('error', (e) => console.log(JSON.stringify({ connect: e.code, read })));`;
  const { stdout } = await run(process.execPath, ['-e', script], { uid: 65534, gid: 65534, cwd: '/', timeout: 10_000 });
  return JSON.parse(stdout) as { connect: string; read: string };
}

interface FleetSetup {
  home: string;
  env: NodeJS.ProcessEnv;
}

/** A fleet home the manager has to create itself, and a config whose runtime is the stand-in. */
async function setup(jenv: JupyterEnv): Promise<FleetSetup> {
  const { home, env } = await standinFleet(jenv, { top: ['linger_seconds = 0'] });
  return { home, env };
}

async function connect(f: FleetSetup, autostart = true): Promise<ManagerClient> {
  return ManagerClient.connect({ home: f.home, env: f.env, autostart });
}

/** Pids of running `manager` processes of this test (found by the temp dir in their env). */
async function managerPids(jenv: JupyterEnv): Promise<number[]> {
  return (await processesReferencing(jenv.dir)).filter((p) => p.cmdline.includes(' manager')).map((p) => p.pid);
}

async function until(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops the manager of the home (and with it every backend) if one answers; never throws. */
async function shutdown(f: FleetSetup): Promise<void> {
  const client = await connect(f, false).catch(() => undefined);
  if (client === undefined) return;
  await client.request({ op: 'shutdown' }).catch(() => undefined);
  await client.closed;
}

let jenv: JupyterEnv;
let f: FleetSetup;

describe('fleet manager daemon', () => {
  beforeEach(async () => {
    jenv = await makeJupyterEnv();
    f = await setup(jenv);
  });

  // Also after a timeout (the test body may still be running): stop the manager (and with it
  // every backend), then fail if anything of this test is left.
  afterEach(async () => {
    await shutdown(f);
    await jenv.cleanup();
  });

  it('autostarts once, survives nothing but its own SIGKILL, and a new manager adopts the backend', async () => {
    expect(existsSync(CLI), `${CLI} missing: run npm run build`).toBe(true);
    // 1. A client autostarts the manager; it creates a private home and socket.
    const cli = await connect(f);
    const first = await cli.request<ManagerInfo>({ op: 'ping' });
    expect((await stat(f.home)).mode & 0o777).toBe(0o700);
    expect((await stat(managerSocketPath(f.home))).mode & 0o777).toBe(0o600);
    expect(await managerPids(jenv)).toEqual([first.pid]);

    // 2. A second manager start finds the first and exits 0; still exactly one manager.
    const second = await run(process.execPath, [CLI, 'manager', '--foreground'], { env: f.env, timeout: 15_000 });
    expect(second.stdout).toBe('');
    const again = await run(process.execPath, [CLI, 'manager'], { env: f.env, timeout: 15_000 });
    expect(again.stdout).toContain(`pid ${first.pid}`);
    expect(await managerPids(jenv)).toEqual([first.pid]);

    // 3. A router-like connection acquires a backend (its connection is the lease).
    const router = await connect(f);
    const handle = await router.request<BackendHandle>({ op: 'acquire', requirement: OPENAI, routerId: 'router-1', pid: process.pid });
    const backendPid = handle.record.pid;

    // 3b. Another user can neither talk to this fleet nor read a backend's key: only the fleet
    //     home's own 0700 stands in the way (the test dir above it is opened up to make sure).
    await chmod(jenv.dir, 0o755);
    expect((await stat(f.home)).mode & 0o777).toBe(0o700);
    expect(await asOtherUser(managerSocketPath(f.home), handle.record.connectionFile)).toEqual({ connect: 'EACCES', read: 'EACCES' });

    // 4. SIGKILL the manager: the backend keeps running and still answers over zmq.
    process.kill(first.pid, 'SIGKILL');
    await router.closed;
    await cli.closed;
    await until(async () => !(await isRunning(first.pid)), 'the killed manager to be gone');
    expect(await isRunning(backendPid)).toBe(true);
    const info = (await requestKernelInfo(handle.connection, { timeoutMs: 5000 })) as { standin: { pid: number; provider: string } };
    expect(info.standin).toMatchObject({ pid: backendPid, provider: 'openai' });

    // 5. The next client autostarts a new manager, which adopts the backend (same pid).
    const cli2 = await connect(f);
    const replacement = await cli2.request<ManagerInfo>({ op: 'ping' });
    expect(replacement.pid).not.toBe(first.pid);
    const listed = await cli2.request<ListedBackend[]>({ op: 'list' });
    expect(listed.map((r) => [r.kernelId, r.pid])).toEqual([[handle.record.kernelId, backendPid]]);
    expect(await managerPids(jenv)).toEqual([replacement.pid]);

    // 6. The router re-attaches over a new connection; closing it (lease) with linger 0 stops the backend.
    const router2 = await connect(f);
    await router2.request({ op: 'attach', kernelId: handle.record.kernelId, routerId: 'router-1', pid: process.pid });
    expect((await cli2.request<ListedBackend[]>({ op: 'list' }))[0]?.attached).toEqual([{ routerId: 'router-1', pid: process.pid }]);
    router2.close();
    await until(async () => (await cli2.request<ListedBackend[]>({ op: 'list' })).length === 0, 'the backend to stop after its lease closed');
    await until(async () => !(await isRunning(backendPid)), 'the backend process to exit');
    expect(existsSync(handle.record.connectionFile)).toBe(false);

    // 7. A backend that dies together with its manager is forgotten by the next one; cleanup
    //    removes connection files nobody owns.
    const router3 = await connect(f);
    const doomed = await router3.request<BackendHandle>({ op: 'acquire', requirement: OPENAI, routerId: 'router-3', pid: process.pid });
    process.kill(replacement.pid, 'SIGKILL');
    process.kill(doomed.record.pid, 'SIGKILL');
    await Promise.all([cli2.closed, router3.closed]);
    await until(async () => !(await isRunning(replacement.pid)) && !(await isRunning(doomed.record.pid)), 'manager and backend to die');
    const orphan = join(f.home, 'backends', 'standin-openai-orphan.json');
    await writeFile(orphan, '{}', { mode: 0o600 });
    const cli3 = await connect(f);
    expect(await cli3.request<ListedBackend[]>({ op: 'list' })).toEqual([]);
    expect(existsSync(doomed.record.connectionFile)).toBe(false);
    const cleaned = await cli3.request<CleanupReport>({ op: 'cleanup' });
    expect(cleaned).toEqual({ removed: [], files: [orphan], containers: [] });
    await shutdown(f);
    await cli3.closed;
  }, 60_000);

  it('stops its backends and exits when its home is deleted (nobody could reach or adopt them)', async () => {
    const client = await connect(f);
    const manager = await client.request<ManagerInfo>({ op: 'ping' });
    const handle = await client.request<BackendHandle>({ op: 'find', requirement: OPENAI });
    client.close();
    // The manager and its backend may write into the home while it is being removed (a log line,
    // the registry): rm then meets a directory that is not empty yet, and tries again.
    await rm(f.home, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
    await until(async () => !(await isRunning(manager.pid)), 'the orphaned manager to exit');
    await until(async () => !(await isRunning(handle.record.pid)), 'its backend to be stopped');
  });

  it('20 routers connecting at once start one manager and share one backend; SIGTERM leaves it to the next manager; shutdown leaves nothing', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => connect(f)));
    const pings = await Promise.all(clients.map((c) => c.request<ManagerInfo>({ op: 'ping' })));
    expect(new Set(pings.map((p) => p.pid)).size).toBe(1);
    // Only one of them started a manager at all (the others waited on manager.starting).
    const log = await readFile(join(f.home, 'logs', 'manager.log'), 'utf8');
    expect(log.match(/starting the fleet manager/g)).toHaveLength(1);
    const handles = await Promise.all(
      clients.map((c, i) => c.request<BackendHandle>({ op: 'acquire', requirement: OPENAI, routerId: `router-${i}`, pid: process.pid })),
    );
    expect(new Set(handles.map((h) => h.record.pid)).size).toBe(1);
    expect(await managerPids(jenv)).toEqual([pings[0]?.pid]);
    const listed = await (clients[0] as ManagerClient).request<ListedBackend[]>({ op: 'list' });
    expect(listed.map((r) => r.attached.length)).toEqual([20]);

    // SIGTERM stops the manager but not the backend; its routers stay attached in the
    // registry, so the next manager keeps the backend for them despite linger 0.
    const managerPid = pings[0]?.pid as number;
    process.kill(managerPid, 'SIGTERM');
    await Promise.all(clients.map((c) => c.closed));
    await until(async () => !(await isRunning(managerPid)), 'the manager to exit on SIGTERM');
    const backendPid = handles[0]?.record.pid as number;
    expect(await isRunning(backendPid)).toBe(true);
    const next = await connect(f);
    const adopted = await next.request<ListedBackend[]>({ op: 'list' });
    expect(adopted.map((r) => [r.pid, r.attached.length])).toEqual([[backendPid, 0]]);

    const result = await next.request<{ stopped: { kernelId: string }[] }>({ op: 'shutdown' });
    expect(result.stopped.map((r) => r.kernelId)).toEqual([handles[0]?.record.kernelId]);
    await next.closed;
    expect(await isRunning(backendPid)).toBe(false);
  }, 60_000);

  it.each(['SIGINT', 'SIGHUP'] as const)('%s stops the manager as documented: it exits, its socket goes, the backend runs on and the next manager adopts it', async (signal) => {
    const client = await connect(f);
    const info = await client.request<ManagerInfo>({ op: 'ping' });
    const handle = await client.request<BackendHandle>({ op: 'acquire', requirement: OPENAI, routerId: 'router-signal', pid: process.pid });
    process.kill(info.pid, signal);
    await client.closed;
    await until(async () => !(await isRunning(info.pid)), `the manager to exit on ${signal}`);
    expect(existsSync(managerSocketPath(f.home)), 'the manager socket after it exited').toBe(false);
    const log = await readFile(join(f.home, 'logs', 'manager.log'), 'utf8');
    expect(log).toContain(`"signal":"${signal}"`);
    expect(await isRunning(handle.record.pid), 'the backend after its manager exited').toBe(true);
    // The backend still answers over zmq, and the next manager takes it over.
    const reply = (await requestKernelInfo(handle.connection, { timeoutMs: 5000 })) as { standin: { pid: number } };
    expect(reply.standin.pid).toBe(handle.record.pid);
    const next = await connect(f);
    const adopted = await next.request<ListedBackend[]>({ op: 'list' });
    expect(adopted.map((r) => r.pid)).toEqual([handle.record.pid]);
    next.close();
  }, 60_000);
});
