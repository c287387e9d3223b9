import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { FleetManager, type FleetManagerOptions } from '../../../../src/fleet/manager/fleet.js';
import type { RouterRef } from '../../../../src/fleet/manager/entry.js';
import { isSameProcess } from '../../../../src/fleet/manager/proc.js';
import { requestKernelInfo } from '../../../../src/fleet/manager/probe.js';
import type { BackendHandle, ManagerEvent } from '../../../../src/fleet/manager/protocol.js';
import { readRegistry, registryPath } from '../../../../src/fleet/manager/registry.js';
import { isFleetError } from '../../../../src/shared/errors.js';
import { isRunning } from '../../../helpers/processes.js';
import { useTempFleet } from './standin-fleet.js';

const OPENAI = { runtime: 'standin', provider: 'openai' };
const ANTHROPIC = { runtime: 'standin', provider: 'anthropic' };

const temp = useTempFleet();

function manager(options: Partial<FleetManagerOptions> = {}): FleetManager {
  const m = new FleetManager({ home: temp.fleet.home, loadConfig: async () => temp.fleet.config(), ...options });
  temp.managers.push(m);
  return m;
}

const router = (routerId: string, conn?: number): RouterRef => ({ routerId, pid: process.pid, ...(conn !== undefined ? { conn } : {}) });

async function standinInfo(handle: BackendHandle): Promise<{ provider: string | null; pid: number; parentPid: string | null }> {
  const content = await requestKernelInfo(handle.connection, { timeoutMs: 5000 });
  return (content as { standin: { provider: string | null; pid: number; parentPid: string | null } }).standin;
}

/** Resolves with the first event `m` pushes; rejects after `ms` so a missing event fails clearly. */
function nextEvent(m: FleetManager, ms = 10_000): Promise<{ event: ManagerEvent; to: readonly RouterRef[] }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no manager event within ${ms} ms`)), ms);
    const off = m.onEvent((event, to) => {
      clearTimeout(timer);
      off();
      resolve({ event, to });
    });
  });
}

describe('FleetManager with the llmspell stand-in', () => {
  it('20 concurrent acquires of one requirement spawn exactly one backend, ready to answer', async () => {
    const m = manager();
    const handles = await Promise.all(Array.from({ length: 20 }, (_, i) => m.acquire(OPENAI, router(`r${i}`))));
    expect(new Set(handles.map((h) => h.record.pid)).size).toBe(1);
    expect(new Set(handles.map((h) => h.record.kernelId)).size).toBe(1);
    const list = m.list();
    expect(list).toHaveLength(1);
    expect(list[0]?.attached).toHaveLength(20);
    expect(list[0]?.state).toBe('ready');
    expect(list[0]?.rssBytes).toBeGreaterThan(0);
    expect((await standinInfo(handles[0] as BackendHandle)).pid).toBe(handles[0]?.record.pid);
  });

  it('different providers get different processes, each with its provider env', async () => {
    const m = manager();
    const [a, b] = await Promise.all([m.acquire(OPENAI, router('r1')), m.acquire(ANTHROPIC, router('r2'))]);
    expect(a.record.pid).not.toBe(b.record.pid);
    const [ia, ib] = await Promise.all([standinInfo(a), standinInfo(b)]);
    expect([ia.provider, ib.provider]).toEqual(['openai', 'anthropic']);
    expect([ia.pid, ib.pid]).toEqual([a.record.pid, b.record.pid]);
  });

  // Needs backend-process.ts to let plan.env override its JPY_PARENT_PID default (see launch.ts managerPlan).
  it('launches backends with an empty JPY_PARENT_PID: ipykernel would otherwise exit when the manager dies', async () => {
    const m = manager();
    const h = await m.acquire(OPENAI, router('r1'));
    expect((await standinInfo(h)).parentPid).toBe('');
  });

  it("a backend runs in the directory of the request that started it, and a restart keeps it", async () => {
    const m = manager();
    const h = await m.acquire(OPENAI, router('r1'), { cwd: temp.fleet.dir });
    expect(((await requestKernelInfo(h.connection, { timeoutMs: 5000 })) as { standin: { cwd: string } }).standin.cwd).toBe(temp.fleet.dir);
    // Shared: a second router from elsewhere gets the same backend, in the first one's directory.
    expect((await m.acquire(OPENAI, router('r2'), { cwd: '/' })).record).toMatchObject({ pid: h.record.pid, cwd: temp.fleet.dir });
    const next = await m.restart(h.record.kernelId, 'r1');
    expect(((await requestKernelInfo(next.connection, { timeoutMs: 5000 })) as { standin: { cwd: string } }).standin.cwd).toBe(temp.fleet.dir);
  });

  it('writes a registry (0600) with the backends but no key and no provider env value', async () => {
    const m = manager();
    const h = await m.acquire(ANTHROPIC, router('r1'));
    await m.close(); // flushes the registry
    const text = await readFile(registryPath(temp.fleet.home), 'utf8');
    expect(text).not.toContain(h.connection.key);
    expect(text).not.toContain('sk-test-secret-value');
    expect((await readRegistry(temp.fleet.home)).records.map((r) => r.kernelId)).toEqual([h.record.kernelId]);
  });

  it('with linger_seconds = 0 stops a backend when its last router releases, and removes its connection file', async () => {
    const m = manager();
    const h = await m.acquire(OPENAI, router('r1'));
    await m.acquire(OPENAI, router('r2'));
    m.release(h.record.kernelId, 'r1');
    expect(m.list()).toHaveLength(1);
    const exited = nextEvent(m).catch(() => undefined);
    m.release(h.record.kernelId, 'r2');
    await waitFor(() => m.list().length === 0);
    expect(isSameProcess(h.record.pid, h.record.procStart)).toBe(false);
    expect(existsSync(h.record.connectionFile)).toBe(false);
    // Nobody was attached any more, so nobody is told.
    expect(await Promise.race([exited, new Promise((r) => setTimeout(() => r('none'), 200))])).toBe('none');
  });

  it('a closed connection detaches only the attachments it made', async () => {
    const m = manager({ loadConfig: async () => ({ ...temp.fleet.config(), linger_seconds: 300 }) });
    const h = await m.acquire(OPENAI, router('r1', 1));
    await m.acquire(OPENAI, router('r2', 2));
    m.detachConnection(1);
    expect(m.list()[0]?.attached.map((a) => a.routerId)).toEqual(['r2']);
    m.detachConnection(2);
    expect(m.list()[0]?.attached).toEqual([]);
    expect(m.list()[0]?.idleSince).toBeTypeOf('number');
    expect(await isRunning(h.record.pid)).toBe(true);
  });

  it('stops a backend named by any of its ports, telling its routers; unknown targets fail clearly', async () => {
    const m = manager();
    const h = await m.acquire(OPENAI, router('r1', 7));
    const event = nextEvent(m);
    const { stopped } = await m.stop(String(h.connection.hb_port));
    expect(stopped.map((r) => r.kernelId)).toEqual([h.record.kernelId]);
    expect(isSameProcess(h.record.pid, h.record.procStart)).toBe(false);
    expect(await event).toMatchObject({ event: { event: 'backend-exited', kernelId: h.record.kernelId, reason: 'stopped' }, to: [{ routerId: 'r1', conn: 7 }] });
    const error = await m.stop('no-such-kernel').catch((e: unknown) => e);
    expect(isFleetError(error) && error.code).toBe('UNKNOWN_BACKEND');
  });

  it('restart replaces the backend, moves every attachment and tells the other routers', async () => {
    const m = manager();
    const old = await m.acquire(OPENAI, router('r1', 1));
    await m.acquire(OPENAI, router('r2', 2));
    const event = nextEvent(m);
    const next = await m.restart(old.record.kernelId, 'r1');
    expect(next.record.kernelId).not.toBe(old.record.kernelId);
    expect(next.record.pid).not.toBe(old.record.pid);
    expect(isSameProcess(old.record.pid, old.record.procStart)).toBe(false);
    const { event: pushed, to } = await event;
    expect(pushed).toMatchObject({ event: 'backend-restarted', kernelId: old.record.kernelId, handle: { record: { kernelId: next.record.kernelId } } });
    // The router that asked got the handle as its answer; only the others get the event.
    expect(to.map((r) => r.routerId)).toEqual(['r2']);
    expect(m.list().map((r) => [r.kernelId, r.attached.map((a) => a.routerId).sort()])).toEqual([[next.record.kernelId, ['r1', 'r2']]]);
    expect((await standinInfo(next)).pid).toBe(next.record.pid);
  });

  it('with linger_seconds = 0, the backend a restart started waits for the router that replaces the one that asked', async () => {
    // jupyter_client restarts the kernel process too: the asking router stops, a new one attaches.
    const m = manager();
    const old = await m.acquire(OPENAI, router('r1', 1));
    const next = await m.restart(old.record.kernelId, 'r1');
    m.release(next.record.kernelId, 'r1');
    // A timer after linger 0's: timers of a shorter delay fire first, so its stop would have begun.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(m.list().map((b) => [b.kernelId, b.state])).toEqual([[next.record.kernelId, 'ready']]);
    const again = await m.acquire(OPENAI, router('r1-after-restart', 2));
    expect(again.record.kernelId).toBe(next.record.kernelId);
    expect(await isRunning(next.record.pid)).toBe(true);
  });

  it('a restarted backend nobody comes back to lingers no longer than the re-attach window', async () => {
    const m = manager({ reattachGraceMs: 300 });
    const old = await m.acquire(OPENAI, router('r1', 1));
    const next = await m.restart(old.record.kernelId, 'r1');
    m.release(next.record.kernelId, 'r1');
    await waitFor(() => m.list().length === 0);
    expect(isSameProcess(next.record.pid, next.record.procStart)).toBe(false);
  });

  it('a backend that dies on its own is reported to its routers, listed dead, and replaced by the next acquire', async () => {
    const m = manager();
    const h = await m.acquire(OPENAI, router('r1', 3));
    const event = nextEvent(m);
    process.kill(h.record.pid, 'SIGKILL');
    expect(await event).toMatchObject({ event: { event: 'backend-exited', kernelId: h.record.kernelId, signal: 'SIGKILL' }, to: [{ routerId: 'r1' }] });
    await waitFor(() => !existsSync(h.record.connectionFile));
    expect(m.list().map((b) => [b.kernelId, b.state])).toEqual([[h.record.kernelId, 'dead']]);
    // The next acquire starts a fresh one, which takes the dead one's place in the list.
    const again = await m.acquire(OPENAI, router('r1', 3));
    expect(again.record.pid).not.toBe(h.record.pid);
    expect(m.list().map((b) => [b.kernelId, b.state])).toEqual([[again.record.kernelId, 'ready']]);
  });

  it('busy while an attached router says its iopub is busy; idle again when it says so or leaves', async () => {
    const m = manager();
    const h = await m.acquire(OPENAI, router('r1', 3));
    expect(m.executionState(h.record.kernelId, 'r1', 'busy')).toBe(true);
    expect(m.list()[0]?.state).toBe('busy');
    m.executionState(h.record.kernelId, 'r1', 'idle');
    expect(m.list()[0]?.state).toBe('ready');
    m.executionState(h.record.kernelId, 'r1', 'busy');
    m.release(h.record.kernelId, 'r1');
    expect(m.list()[0]?.state).not.toBe('busy');
    expect(m.executionState('no-such-backend', 'r1', 'busy')).toBe(false);
  });

  it('a backend that fails at start rejects every waiting acquire with the reason and leaves nothing', async () => {
    const m = manager();
    const crash = { runtime: 'crash', provider: 'openai' };
    const results = await Promise.allSettled([m.acquire(crash, router('a')), m.acquire(crash, router('b'))]);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      if (r.status === 'rejected') expect(isFleetError(r.reason) && r.reason.code).toBe('BACKEND_EXITED');
    }
    expect(m.list()).toEqual([]);
  });

  it('a new manager adopts the running backends of a closed one, and can stop them', async () => {
    const first = manager({ loadConfig: async () => ({ ...temp.fleet.config(), linger_seconds: 300 }) });
    const h = await first.acquire(OPENAI, router('r1'));
    await temp.closeKeepingBackends(first);
    expect(await isRunning(h.record.pid)).toBe(true);

    const second = manager({ loadConfig: async () => ({ ...temp.fleet.config(), linger_seconds: 300 }) });
    expect(await second.start()).toEqual({ adopted: [h.record.kernelId], forgotten: [] });
    expect(second.list().map((r) => [r.kernelId, r.pid])).toEqual([[h.record.kernelId, h.record.pid]]);
    // Routers re-attach to adopted backends by kernel id.
    expect((await second.attach(h.record.kernelId, router('r1'))).connection.key).toBe(h.connection.key);
    // Same requirement: shared, not spawned again.
    expect((await second.acquire(OPENAI, router('r2'))).record.pid).toBe(h.record.pid);
    await second.stop(h.record.kernelId);
    expect(await isRunning(h.record.pid)).toBe(false);
    expect(existsSync(h.record.connectionFile)).toBe(false);
  });

  it('an adopted backend whose recorded router is gone lingers at once (no re-attach grace): linger 0 stops it', async () => {
    const first = manager({ loadConfig: async () => ({ ...temp.fleet.config(), linger_seconds: 300 }) });
    // A router that gave up during start-up: attached in the registry, but its process is gone.
    const h = await first.acquire(OPENAI, { routerId: 'gave-up', pid: await deadPid() });
    await temp.closeKeepingBackends(first);
    const second = manager({ reattachGraceMs: 600_000 });
    expect(await second.start()).toEqual({ adopted: [h.record.kernelId], forgotten: [] });
    await waitFor(async () => !(await isRunning(h.record.pid)) && second.list().length === 0);
    expect(existsSync(h.record.connectionFile)).toBe(false);
  });

  it('an attachment whose connection closed while its acquire ran is dropped, and the backend lingers (linger 0: stopped)', async () => {
    const m = manager();
    const h = await m.acquire(OPENAI, router('gave-up', 7));
    expect(m.list()[0]?.attached).toHaveLength(1);
    m.detachStale((conn) => conn !== 7);
    // The process ends before the manager has seen its exit: wait for both.
    await waitFor(async () => !(await isRunning(h.record.pid)) && m.list().length === 0);
    expect(m.list()).toEqual([]);
  });

  it('holds() counts what keeps the manager from exiting when idle', async () => {
    const m = manager({ loadConfig: async () => ({ ...temp.fleet.config(), linger_seconds: 300, manager_idle_seconds: 42 }) });
    expect(m.holds()).toEqual({ backends: 0, starts: 0 });
    const pending = m.find(OPENAI);
    expect(m.holds()).toEqual({ backends: 0, starts: 1 });
    await pending;
    expect(m.holds()).toEqual({ backends: 1, starts: 0 });
    expect(m.idleMs()).toBe(42_000);
  });

  it('forgets registry entries whose process is gone, with their connection files', async () => {
    const first = manager({ loadConfig: async () => ({ ...temp.fleet.config(), linger_seconds: 300 }) });
    const h = await first.acquire(OPENAI, router('r1'));
    await temp.closeKeepingBackends(first);
    process.kill(h.record.pid, 'SIGKILL');
    await waitFor(async () => !(await isRunning(h.record.pid)));
    const second = manager();
    expect(await second.start()).toEqual({ adopted: [], forgotten: [h.record.kernelId] });
    expect(existsSync(h.record.connectionFile)).toBe(false);
    await second.close();
    expect((await readRegistry(temp.fleet.home)).records).toEqual([]);
  });

  it('health reports process and heartbeat; cleanup removes dead entries and orphan files', async () => {
    const m = manager({ loadConfig: async () => ({ ...temp.fleet.config(), linger_seconds: 300 }) });
    const h = await m.acquire(OPENAI, router('r1'));
    const [report] = await m.health();
    expect(report).toMatchObject({ kernelId: h.record.kernelId, pid: h.record.pid, processAlive: true, heartbeat: true });
    expect(report?.heartbeatMs).toBeTypeOf('number');
    const { writeFile } = await import('node:fs/promises');
    const orphan = h.record.connectionFile.replace(h.record.kernelId, 'orphan-backend');
    await writeFile(orphan, '{}');
    const cleaned = await m.cleanup();
    expect(cleaned).toEqual({ removed: [], files: [orphan], containers: [] });
    expect(existsSync(h.record.connectionFile)).toBe(true);
  });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid as number;
}

async function waitFor(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}
