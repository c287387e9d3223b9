import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FleetDirectory, type FleetLease } from '../../../../src/fleet/fleet-directory.js';
import { ManagerClient } from '../../../../src/fleet/manager/client.js';
import { FleetManager } from '../../../../src/fleet/manager/fleet.js';
import { isSameProcess } from '../../../../src/fleet/manager/proc.js';
import { requestKernelInfo } from '../../../../src/fleet/manager/probe.js';
import type { ListedBackend } from '../../../../src/fleet/manager/protocol.js';
import { ManagerServer } from '../../../../src/fleet/manager/server.js';
import type { BackendDirectory, BackendLease } from '../../../../src/router/types.js';
import { makeTempFleet, type TempFleet } from './standin-fleet.js';
import { TO_BACKEND, TO_CLIENT } from '../../../../src/shared/relay-counts.js';
import { crashOutput } from '../../../../src/shared/exit.js';
import { JupyterClient } from '../../../../src/wire/client.js';

const OPENAI = { runtime: 'standin', provider: 'openai' };
const signal = () => new AbortController().signal;

let fleet: TempFleet;
let servers: ManagerServer[];
let directories: FleetDirectory[];

beforeEach(async () => {
  fleet = await makeTempFleet({ linger: 0 });
  servers = [];
  directories = [];
});

afterEach(async () => {
  for (const d of directories) await d.close();
  for (const s of servers) await s.close();
  const sweeper = new FleetManager({ home: fleet.home, loadConfig: async () => fleet.config() });
  await sweeper.start();
  await sweeper.stopAll();
  await sweeper.close();
  await fleet.done();
});

let manager: FleetManager;

async function startServer(linger = 0): Promise<ManagerServer> {
  const fm = (manager = new FleetManager({ home: fleet.home, loadConfig: async () => ({ ...fleet.config(), linger_seconds: linger }), reattachGraceMs: 10_000 }));
  const started = await ManagerServer.start({ home: fleet.home, fleet: fm });
  if (started.status !== 'started') throw new Error('expected to start');
  servers.push(started.server);
  return started.server;
}

function directory(routerId?: string): FleetDirectory {
  const d = new FleetDirectory({ home: fleet.home, autostart: false, pollMs: 100, ...(routerId !== undefined ? { routerId } : {}) });
  directories.push(d);
  return d;
}

async function list(): Promise<ListedBackend[]> {
  const c = await ManagerClient.connect({ home: fleet.home, autostart: false });
  try {
    return await c.request<ListedBackend[]>({ op: 'list' });
  } finally {
    c.close();
  }
}

describe('FleetDirectory', () => {
  it("has the router's BackendDirectory shape, and its leases the BackendLease shape", () => {
    const d: BackendDirectory = directory();
    const leaseShape = (l: FleetLease): BackendLease => l;
    expect(typeof d.acquire).toBe('function');
    expect(typeof leaseShape).toBe('function');
  });

  it("measures a held backend through the manager's usage op; an unknown id is UNKNOWN_BACKEND, a stopped one measures nothing", async () => {
    await startServer();
    const lease = await directory('router-u').acquire(OPENAI, { signal: signal() });
    const usage = await lease.usage!();
    expect(usage).toMatchObject({ pid: lease.pid, processes: 1 });
    expect(usage?.residentBytes).toBeGreaterThan(1024 * 1024);
    expect(usage?.hostVirtualMemory?.total).toBeGreaterThan(usage?.residentBytes ?? Infinity);
    const c = await ManagerClient.connect({ home: fleet.home, autostart: false });
    try {
      await expect(c.request({ op: 'usage', kernelId: 'no-such-backend' })).rejects.toMatchObject({ code: 'UNKNOWN_BACKEND' });
      await c.request({ op: 'stop', target: lease.kernelId });
      await lease.exited;
      expect(await lease.usage!()).toBeUndefined();
    } finally {
      c.close();
    }
  });

  it('acquires a shared, ready backend and lists the fleet', async () => {
    await startServer();
    const [a, b] = [directory('router-a'), directory('router-b')];
    const [la, lb] = await Promise.all([a.acquire(OPENAI, { signal: signal() }), b.acquire(OPENAI, { signal: signal() })]);
    expect(la.pid).toBe(lb.pid);
    expect(la.shared).toBe(true);
    expect(la.requirement).toEqual(OPENAI);
    const info = (await requestKernelInfo(la.connection, { timeoutMs: 5000 })) as { standin: { pid: number } };
    expect(info.standin.pid).toBe(la.pid);
    expect(await a.list()).toEqual([{ kernelId: la.kernelId, pid: la.pid, runtime: 'standin', provider: 'openai', state: 'ready', clients: 2 }]);
  });

  it("each router's relay counts reach the manager as it releases the backend, and its totals outlive both routers", async () => {
    await startServer();
    const [a, b] = [directory('router-a'), directory('router-b')];
    const [la, lb] = await Promise.all([a.acquire(OPENAI, { signal: signal() }), b.acquire(OPENAI, { signal: signal() })]);
    for (let i = 0; i < 3; i++) la.relayCounts!.relayed(TO_BACKEND.shell, 10);
    la.relayCounts!.executed('ok', 0.02);
    lb.relayCounts!.relayed(TO_CLIENT.iopub, 5);
    lb.relayCounts!.executed('error', 0.5);
    await la.release({ stop: false });
    // b is still attached: the backend is listed, with a's counts already in.
    expect((await list()).find((x) => x.kernelId === la.kernelId)?.messagesRelayed).toBe(3);
    const gone = new Promise<void>((resolve) => {
      const off = manager.observe(() => {
        if (manager.list().some((x) => x.kernelId === la.kernelId)) return;
        off();
        resolve();
      });
    });
    await lb.release({ stop: false });
    // linger 0: the backend stops as b leaves; its totals stay (relay-totals.ts retention).
    await gone;
    const [total] = manager.relay.all();
    expect(total?.labels).toEqual({ kernelId: la.kernelId, runtime: 'standin', provider: 'openai', group: '' });
    expect(Object.fromEntries(total!.relayed)).toEqual({ 'shell:to_backend': { messages: 3, bytes: 30 }, 'iopub:to_client': { messages: 1, bytes: 5 } });
    expect(total?.executions).toEqual({ ok: 1, error: 1, aborted: 0 });
  });

  it('exited settles when the backend dies, with what the manager saw', async () => {
    await startServer();
    const lease = await directory().acquire(OPENAI, { signal: signal() });
    process.kill(lease.pid, 'SIGKILL');
    expect(await lease.exited).toMatchObject({ signal: 'SIGKILL', reason: 'signalled' });
  });

  it('a backend that crashes mid-cell: exited carries its exit code and the last lines it wrote, which a router shows', async () => {
    await startServer();
    const lease = await directory().acquire(OPENAI, { signal: signal() });
    const client = new JupyterClient({ connection: lease.connection });
    try {
      // The cell never gets a reply (its backend is gone): the close rejects it.
      const cell = client.start('execute_request', { code: 'crash 3 llmspell-standin: fatal: the provider closed the stream', silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
      cell.reply.catch(() => undefined);
      const exit = await lease.exited;
      expect(exit).toMatchObject({ exitCode: 3, signal: null, reason: 'exited' });
      expect(crashOutput(exit)).toMatch(/ready, shell port \d+\nllmspell-standin: fatal: the provider closed the stream$/);
    } finally {
      client.close();
    }
  });

  it("interrupt() sends SIGINT to the backend's group (the stand-in, like llmspell, dies of it)", async () => {
    await startServer();
    const lease = await directory().acquire(OPENAI, { signal: signal() });
    lease.interrupt();
    expect(await lease.exited).toMatchObject({ signal: 'SIGINT' });
  });

  it('restart switches this router through onReplaced and the others through onRestarted', async () => {
    await startServer();
    const [a, b] = [directory('router-a'), directory('router-b')];
    const la = await a.acquire(OPENAI, { signal: signal() });
    await b.acquire(OPENAI, { signal: signal() });
    const replaced = new Promise<FleetLease>((resolve) => la.onReplaced(resolve));
    const restartedB = new Promise<[string, FleetLease]>((resolve) => b.onRestarted((old, _h, next) => resolve([old, next])));
    await la.restart();
    const next = await replaced;
    const [oldId, nextB] = await restartedB;
    expect(oldId).toBe(la.kernelId);
    expect(nextB.kernelId).toBe(next.kernelId);
    expect(next.pid).not.toBe(la.pid);
    expect(await la.exited).toMatchObject({ reason: 'restarted' });
    expect((await list()).map((r) => r.attached.map((x) => x.routerId).sort())).toEqual([['router-a', 'router-b']]);
  });

  it('survives a manager restart: the lease keeps working and is re-attached to the new manager', async () => {
    const first = await startServer();
    const d = directory('router-a');
    const lease = await d.acquire(OPENAI, { signal: signal() });
    await first.close();
    await startServer();
    // The directory notices the lost connection, reconnects and sends `attach`.
    for (;;) {
      const records = await list();
      if (records[0]?.attached.some((x) => x.routerId === 'router-a')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await list()).map((r) => r.pid)).toEqual([lease.pid]);
    expect(isSameProcess(lease.pid, undefined)).toBe(true);
    // With linger 0, the router leaving stops the adopted backend.
    await lease.release();
    for (;;) {
      if ((await list()).length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });

  it('close() detaches the router; with linger 0 its backend stops', async () => {
    await startServer();
    const d = directory();
    const lease = await d.acquire(OPENAI, { signal: signal() });
    await d.close();
    for (;;) {
      if ((await list()).length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(isSameProcess(lease.pid, undefined)).toBe(false);
  });

  it('an acquire aborted while the manager spawns gives the backend back', async () => {
    await startServer();
    const controller = new AbortController();
    const pending = directory().acquire(OPENAI, { signal: controller.signal });
    controller.abort(new Error('client went away'));
    await expect(pending).rejects.toThrow('client went away');
    for (;;) {
      if ((await list()).length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});
