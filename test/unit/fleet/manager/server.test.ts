import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManagerClient } from '../../../../src/fleet/manager/client.js';
import { managerLockPath, managerSocketPath } from '../../../../src/fleet/manager/files.js';
import { FleetManager } from '../../../../src/fleet/manager/fleet.js';
import type { BackendHandle, ManagerEvent, ManagerInfo } from '../../../../src/fleet/manager/protocol.js';
import { ManagerServer } from '../../../../src/fleet/manager/server.js';
import { isSameProcess } from '../../../../src/fleet/manager/proc.js';
import { ensurePrivateDir } from '../../../../src/fleet/paths.js';
import { isFleetError } from '../../../../src/shared/errors.js';
import { processesReferencing } from '../../../helpers/processes.js';
import { makeTempFleet, type TempFleet } from './standin-fleet.js';

const OPENAI = { runtime: 'standin', provider: 'openai' };

let fleet: TempFleet;
let servers: ManagerServer[];
let clients: ManagerClient[];

beforeEach(async () => {
  fleet = await makeTempFleet({ linger: 0 });
  servers = [];
  clients = [];
});

afterEach(async () => {
  for (const c of clients) c.close();
  // Whatever a test left running is stopped by a manager that adopts it.
  for (const s of servers) await s.close();
  const sweeper = new FleetManager({ home: fleet.home, loadConfig: async () => fleet.config() });
  await sweeper.start();
  await sweeper.stopAll();
  await sweeper.close();
  await fleet.done();
});

async function startServer(linger = 0, idleSeconds?: number): Promise<ManagerServer> {
  const config = () => ({ ...fleet.config(), linger_seconds: linger, ...(idleSeconds !== undefined ? { manager_idle_seconds: idleSeconds } : {}) });
  const fm = new FleetManager({ home: fleet.home, loadConfig: async () => config() });
  const started = await ManagerServer.start({ home: fleet.home, fleet: fm, idleCheckMs: 20 });
  if (started.status !== 'started') throw new Error('expected to start');
  servers.push(started.server);
  return started.server;
}

async function client(): Promise<ManagerClient> {
  const c = await ManagerClient.connect({ home: fleet.home, autostart: false });
  clients.push(c);
  return c;
}

describe('ManagerServer', () => {
  it('answers a ping that came while backends were being adopted, with the HTTP API on', async () => {
    // The ping waits for `ready`, which waits for the HTTP API: once, the API waited in turn for
    // no request to be in flight, so such a ping deadlocked the manager (seen in the limits e2e).
    let adopt!: () => void;
    const adopting = new Promise<void>((resolve) => (adopt = resolve));
    const fm = new FleetManager({ home: fleet.home, loadConfig: async () => fleet.config() });
    const start = fm.start.bind(fm);
    fm.start = async () => {
      await adopting;
      return start();
    };
    const starting = ManagerServer.start({ home: fleet.home, fleet: fm, idleCheckMs: 20, http: { enabled: true, listen: '127.0.0.1:0', metrics_auth: false } });
    while (!existsSync(managerSocketPath(fleet.home))) await new Promise((resolve) => setTimeout(resolve, 5));
    const socket = connect(managerSocketPath(fleet.home));
    const answer = new Promise<string>((resolve) => socket.once('data', (data) => resolve(String(data))));
    await new Promise<void>((resolve) => socket.write(`${JSON.stringify({ id: 1, op: 'ping' })}\n`, () => resolve()));
    // Same process: a few turns of the loop and the server has read the ping and waits for `ready`.
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    adopt();
    const started = await starting;
    if (started.status !== 'started') throw new Error('expected to start');
    servers.push(started.server);
    expect(JSON.parse(await answer)).toMatchObject({ id: 1, ok: true, result: { pid: process.pid } });
    expect(started.server.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+/);
    socket.destroy();
  });

  it('listens on a 0600 socket in a 0700 home and answers ping', async () => {
    const server = await startServer();
    expect((await stat(fleet.home)).mode & 0o777).toBe(0o700);
    expect((await stat(server.socketPath)).mode & 0o777).toBe(0o600);
    const info = await (await client()).request<ManagerInfo>({ op: 'ping' });
    expect(info).toMatchObject({ pid: process.pid, home: fleet.home, socket: server.socketPath, backends: 0 });
  });

  it('a second manager for the same home finds the first and does not bind', async () => {
    await startServer();
    const other = new FleetManager({ home: fleet.home, loadConfig: async () => fleet.config() });
    expect(await ManagerServer.start({ home: fleet.home, fleet: other })).toEqual({ status: 'already-running', pid: process.pid });
    expect((await (await client()).request<ManagerInfo>({ op: 'ping' })).pid).toBe(process.pid);
  });

  it('replaces a stale socket left by a manager killed with SIGKILL', async () => {
    await ensurePrivateDir(fleet.home);
    const path = managerSocketPath(fleet.home);
    const script = `require('net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))`;
    const dead = spawn(process.execPath, ['-e', script, path], { stdio: 'ignore' });
    await once(dead, 'exit');
    expect(existsSync(path)).toBe(true);
    await startServer();
    expect((await (await client()).request<ManagerInfo>({ op: 'ping' })).pid).toBe(process.pid);
  });

  it('answers a malformed request with BAD_REQUEST and keeps serving the connection', async () => {
    const server = await startServer();
    const socket = connect(server.socketPath);
    await once(socket, 'connect');
    socket.write('{"id": 5, "op": "acquire"}\n{"id": 6, "op": "ping"}\n');
    const lines: string[] = [];
    socket.on('data', (b: Buffer) => lines.push(...b.toString().split('\n').filter(Boolean)));
    while (lines.length < 2) await once(socket, 'data');
    socket.destroy();
    const [bad, ping] = lines.map((l) => JSON.parse(l) as { id: number; ok: boolean; error?: { code: string } });
    expect(bad).toMatchObject({ id: 5, ok: false, error: { code: 'BAD_REQUEST' } });
    expect(ping).toMatchObject({ id: 6, ok: true });
  });

  it("an acquiring connection is a lease: closing it detaches, and linger 0 stops the backend", async () => {
    await startServer();
    const router = await client();
    const h = await router.request<BackendHandle>({ op: 'acquire', requirement: OPENAI, routerId: 'r1', pid: process.pid });
    const cli = await client();
    expect((await cli.request<{ attached: unknown[] }[]>({ op: 'list' }))[0]?.attached).toEqual([{ routerId: 'r1', pid: process.pid }]);
    router.close();
    await router.closed;
    while ((await cli.request<unknown[]>({ op: 'list' })).length > 0) await new Promise((r) => setTimeout(r, 25));
    expect(isSameProcess(h.record.pid, h.record.procStart)).toBe(false);
  });

  it('errors carry the fleet code and context to the client', async () => {
    await startServer();
    const error = await (await client()).request({ op: 'stop', target: '1' }).catch((e: unknown) => e);
    expect(isFleetError(error) && { code: error.code, context: error.context }).toEqual({ code: 'UNKNOWN_BACKEND', context: { target: '1' } });
  });

  it('pushes backend-restarted to the other attached connection only', async () => {
    await startServer();
    const [a, b] = [await client(), await client()];
    const eventsA: ManagerEvent[] = [];
    a.onEvent((e) => eventsA.push(e));
    const gotB = new Promise<ManagerEvent>((resolve) => b.onEvent(resolve));
    const old = await a.request<BackendHandle>({ op: 'acquire', requirement: OPENAI, routerId: 'ra', pid: process.pid });
    await b.request<BackendHandle>({ op: 'acquire', requirement: OPENAI, routerId: 'rb', pid: process.pid });
    const next = await a.request<BackendHandle>({ op: 'restart', kernelId: old.record.kernelId, routerId: 'ra' });
    expect(await gotB).toMatchObject({ event: 'backend-restarted', kernelId: old.record.kernelId, handle: { record: { kernelId: next.record.kernelId } } });
    expect(eventsA).toEqual([]);
  });

  it('streams fleet events to a connection that asks for them (the events op), the same as GET /api/v1/events, until it closes', async () => {
    const fm = new FleetManager({ home: fleet.home, loadConfig: async () => ({ ...fleet.config(), linger_seconds: 300 }) });
    const started = await ManagerServer.start({ home: fleet.home, fleet: fm, idleCheckMs: 20 });
    if (started.status !== 'started') throw new Error('expected to start');
    servers.push(started.server);
    const watcher = await client();
    const seen: ManagerEvent[] = [];
    let arrived: () => void = () => undefined;
    watcher.onEvent((e) => {
      seen.push(e);
      arrived();
    });
    const until = async (done: () => boolean) => {
      while (!done()) await new Promise<void>((resolve) => (arrived = resolve));
    };
    expect(await watcher.request({ op: 'events' })).toEqual({ subscribed: true });
    expect(fm.observerCount).toBe(1);
    // A connection that did not ask hears none of it.
    const other = await client();
    const quiet: ManagerEvent[] = [];
    other.onEvent((e) => quiet.push(e));
    const h = await other.request<BackendHandle>({ op: 'spawn', requirement: OPENAI });
    const mine = () => seen.filter((e) => e.kernelId === h.record.kernelId).map((e) => e.fleet?.type);
    await until(() => mine().includes('ready'));
    expect(mine()).toEqual(['spawned', 'ready']);
    expect(seen[0]).toMatchObject({ event: 'fleet-event', kernelId: h.record.kernelId, fleet: { type: 'spawned', kernelId: h.record.kernelId, runtime: 'standin', provider: 'openai' } });
    await other.request({ op: 'stop', target: h.record.kernelId });
    await until(() => mine().includes('stopped'));
    expect(seen.at(-1)?.fleet).toMatchObject({ type: 'stopped', reason: 'stopped' });
    expect(quiet).toEqual([]);
    // Its watcher goes when the connection does.
    watcher.close();
    await watcher.closed;
    const deadline = Date.now() + 10_000;
    while (fm.observerCount > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(fm.observerCount).toBe(0);
  });

  it('refuses events where no connection stays open to carry them (as HTTP would ask)', async () => {
    const { runOperation } = await import('../../../../src/fleet/manager/operations.js');
    const fm = new FleetManager({ home: fleet.home, persist: false });
    let thrown: unknown;
    try {
      runOperation({ fleet: fm, home: fleet.home, socketPath: '', startedAt: 0 }, undefined, { id: 1, op: 'events' });
    } catch (error) {
      thrown = error;
    }
    expect(isFleetError(thrown) && thrown.code).toBe('BAD_REQUEST');
  });

  it('shutdown stops every backend, answers, then closes', async () => {
    const server = await startServer(300);
    const c = await client();
    const h = await c.request<BackendHandle>({ op: 'find', requirement: OPENAI });
    const result = await c.request<{ stopped: { kernelId: string }[] }>({ op: 'shutdown' });
    expect(result.stopped.map((r) => r.kernelId)).toEqual([h.record.kernelId]);
    await server.closed;
    await c.closed;
    expect(isSameProcess(h.record.pid, h.record.procStart)).toBe(false);
    expect(existsSync(server.socketPath)).toBe(false);
  });

  it('a backend spawned for a router whose connection closed before the attach lingers like any other (linger 0: stopped)', async () => {
    const server = await startServer(0, 0.1);
    // A router that gives up while its backend starts: the acquire is sent, the connection gone.
    const gone = connect(managerSocketPath(fleet.home));
    await once(gone, 'connect');
    gone.end(JSON.stringify({ id: 1, op: 'acquire', requirement: OPENAI, routerId: 'gave-up', pid: process.pid }) + '\n');
    await once(gone, 'close');
    // Its backend holds the manager, so the manager's idle exit says the backend is gone.
    await server.closed;
    expect(await processesReferencing(fleet.dir)).toEqual([]);
  });

  it('exits by itself after manager_idle_seconds with nothing to hold it: socket and lock gone', async () => {
    const server = await startServer(0, 0.1);
    await server.closed;
    expect(existsSync(managerSocketPath(fleet.home))).toBe(false);
    expect(existsSync(`${fleet.home}/manager.lock`)).toBe(false);
  });

  it('a connected client holds an idle manager; it exits once the client leaves', async () => {
    const server = await startServer(0, 0.1);
    const c = await client();
    let closed = false;
    void server.closed.then(() => (closed = true));
    // Many idle checks (every 20 ms) pass while the client stays connected.
    for (let i = 0; i < 20; i++) expect((await c.request<ManagerInfo>({ op: 'ping' })).pid).toBe(process.pid);
    expect(closed).toBe(false);
    c.close();
    await server.closed;
  });

  it('a client that connects while the manager is deciding to exit is served, not dropped', async () => {
    let racer: Promise<ManagerClient> | undefined;
    /** Connects at the worst moment: the exit holds manager.lock and has just found nothing to hold it. */
    class RacingFleet extends FleetManager {
      override holds(): ReturnType<FleetManager['holds']> {
        const holds = super.holds();
        // ManagerClient.connect issues connect(2) synchronously: the client is in the listen backlog now.
        if (racer === undefined && existsSync(managerLockPath(fleet.home))) {
          racer = ManagerClient.connect({ home: fleet.home, autostart: false });
          racer.catch(() => undefined); // awaited below; a drop fails the test there
        }
        return holds;
      }
    }
    const fm = new RacingFleet({ home: fleet.home, loadConfig: async () => ({ ...fleet.config(), manager_idle_seconds: 0.1 }) });
    const started = await ManagerServer.start({ home: fleet.home, fleet: fm, idleCheckMs: 20 });
    if (started.status !== 'started') throw new Error('expected to start');
    servers.push(started.server);
    let closed = false;
    void started.server.closed.then(() => (closed = true));
    while (racer === undefined) await new Promise((r) => setTimeout(r, 10));
    const c = await racer;
    clients.push(c);
    expect((await c.request<ManagerInfo>({ op: 'ping' })).pid).toBe(process.pid);
    // Its request may be answered while the socket file is still set aside; then it is put back.
    while (started.server.socketSetAside) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toBe(false);
    expect(existsSync(managerSocketPath(fleet.home))).toBe(true);
    expect((await c.request<ManagerInfo>({ op: 'ping' })).pid).toBe(process.pid);
    c.close();
    await started.server.closed;
  });

  it('close() stops listening but leaves the backends running for the next manager', async () => {
    const server = await startServer(300);
    const h = await (await client()).request<BackendHandle>({ op: 'find', requirement: OPENAI });
    await server.close();
    expect(isSameProcess(h.record.pid, h.record.procStart)).toBe(true);
    await expect(ManagerClient.connect({ home: fleet.home, autostart: false })).rejects.toMatchObject({ code: 'MANAGER_UNAVAILABLE' });
  });
});
