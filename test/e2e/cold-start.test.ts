/**
 * A router's cold start (issue #12 item 3): with no manager running, the router starts the
 * manager before it loads its own modules, then acquires its backend from it. One manager,
 * one backend, attached to this router; the manager gets NODE_EXTRA_CA_CERTS set aside (it
 * makes no TLS connection, and parsing the bundle slowed its start) and its backend gets it
 * back. Nothing is left afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CA_ASIDE_VARIABLE } from '../../src/fleet/manager/autostart.js';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import type { ListedBackend, ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { managerTraceFile, type StartupTrace } from '../../src/shared/startup-trace.js';
import { JupyterClient } from '../../src/wire/client.js';
import type { ConnectionInfo } from '../../src/wire/connection-file.js';
import { requestUntilAnswered } from '../../src/wire/ready.js';
import { makeJupyterEnv, type JupyterEnv } from '../helpers/e2e.js';
import { CLI, standinFleet, stopFleetManager, writeClientConnectionFile } from '../helpers/fleet-env.js';

let jenv: JupyterEnv;
let router: ChildProcess | undefined;
let others: ChildProcess[] = [];

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** The first kernel_info_reply through a router (it comes from the backend once the router has one). */
async function kernelInfoThrough(info: ConnectionInfo): Promise<unknown> {
  const client = new JupyterClient({ connection: info, channels: ['shell'], reconnectIntervalMs: 10 });
  try {
    return await requestUntilAnswered(client, 'kernel_info_request', {}, { timeoutMs: 60_000 });
  } finally {
    client.close();
  }
}

/** The environment a process was started with, from /proc. */
async function environOf(pid: number): Promise<Map<string, string>> {
  const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
  return new Map(raw.split('\0').filter((e) => e.includes('=')).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

describe('routed cold start', () => {
  beforeEach(async () => {
    jenv = await makeJupyterEnv();
  });

  afterEach(async () => {
    if (router !== undefined && router.exitCode === null && router.signalCode === null) {
      const exited = once(router, 'exit');
      router.kill('SIGTERM');
      await exited;
    }
    router = undefined;
    await Promise.all(others.map(stop));
    others = [];
    await jenv.cleanup();
  });

  it('a router with no manager starts one early and gets its backend from it: one manager, one backend, the CA bundle only where it is used', async () => {
    const { home, env } = await standinFleet(jenv, { top: ['linger_seconds = 0'] });
    // Any path will do: the test follows the variable, and Node only warns about a bundle it cannot read.
    const ca = env.NODE_EXTRA_CA_CERTS ?? join(jenv.dir, 'extra-ca.pem');
    const { file, info } = await writeClientConnectionFile(jenv);
    const trace = join(jenv.dir, 'router.trace');
    router = spawn(process.execPath, [CLI, 'router', '--connection-file', file], {
      env: { ...env, NODE_EXTRA_CA_CERTS: ca, LLMSPELL_FLEET_STARTUP_TRACE: trace },
      cwd: jenv.dir,
      stdio: 'ignore',
    });
    const client = new JupyterClient({ connection: info, channels: ['shell'], reconnectIntervalMs: 10 });
    try {
      const reply = await requestUntilAnswered(client, 'kernel_info_request', {}, { timeoutMs: 60_000 });
      expect(reply, 'kernel_info_reply through the router').not.toBe(undefined);
      expect(reply).not.toBe('gave-up');
    } finally {
      client.close();
    }

    // The router started the manager itself (the early start), once.
    const log = await readFile(join(home, 'logs', 'manager.log'), 'utf8');
    expect(log.match(/starting the fleet manager \(by pid (\d+)\)/g)).toEqual([`starting the fleet manager (by pid ${router.pid})`]);

    const manager = await ManagerClient.connect({ home, autostart: false });
    try {
      const ping = await manager.request<ManagerInfo>({ op: 'ping' });
      const listed = await manager.request<ListedBackend[]>({ op: 'list' });
      // One backend, ready, and this router is attached to it: no second one was spawned.
      expect(listed.map((b) => [b.state, b.attached.map((a) => a.pid)])).toEqual([['ready', [router.pid]]]);
      const managerEnv = await environOf(ping.pid);
      expect(managerEnv.has('NODE_EXTRA_CA_CERTS'), 'the manager parses no CA bundle').toBe(false);
      expect(managerEnv.get(CA_ASIDE_VARIABLE)).toBe(ca);
      const backendEnv = await environOf(listed[0]!.pid);
      expect(backendEnv.get('NODE_EXTRA_CA_CERTS'), 'the backend gets the bundle back').toBe(ca);
      expect(backendEnv.has(CA_ASIDE_VARIABLE)).toBe(false);
    } finally {
      manager.close();
    }

    const exited = once(router, 'exit');
    router.kill('SIGTERM');
    await exited;
    await stopFleetManager(home);

    // Early: the manager was spawned before the router command's modules were loaded.
    const { marks } = JSON.parse(await readFile(trace, 'utf8')) as StartupTrace;
    expect(marks['manager-spawned'], 'the router spawned the manager').toBeTypeOf('number');
    expect(marks['manager-spawned']).toBeLessThan(marks.action!);
    // The manager traced to its own file, and served this router's acquire.
    const managerTrace = JSON.parse(await readFile(managerTraceFile(trace), 'utf8')) as StartupTrace;
    expect(Object.keys(managerTrace.marks)).toEqual(expect.arrayContaining(['manager-listening', 'acquire-received', 'backend-spawned', 'backend-ready', 'acquire-answered']));
  }, 90_000);

  // A router of the five once never answered: its ports, probed from the ephemeral range, were
  // handed out again by the OS before it bound them (to the stand-in's bind(0), or as a connect's
  // source port), so it exited with BIND_FAILED. Reproduced with ip_local_port_range narrowed to
  // 60 ports in a network namespace (3 of 3 runs failed; 0 of 5 since): writeClientConnectionFile
  // now takes ports outside that range (allocatePorts, src/fleet/port-range.ts). The dump stays for anything else.
  it('five routers started together with no manager start one manager between them and share one backend', { timeout: 120_000 }, async () => {
    const { home, env } = await standinFleet(jenv, { top: ['linger_seconds = 0'] });
    const files = await Promise.all(Array.from({ length: 5 }, (_, i) => writeClientConnectionFile(jenv, `r${i}`)));
    others = files.map(({ file }) => spawn(process.execPath, [CLI, 'router', '--connection-file', file], { env, cwd: jenv.dir, stdio: 'ignore' }));
    const replies = await Promise.all(files.map(({ info }) => kernelInfoThrough(info)));
    if (replies.some((r) => r === undefined || r === 'gave-up')) {
      // A router that never answered: its exit code, and what the routers and the manager logged, say why.
      const { readdirSync, readFileSync } = await import('node:fs');
      console.log('[cold-start] replies', replies.map((r) => (r === undefined || r === 'gave-up' ? 'none' : 'ok')), others.map((o) => [o.pid, o.exitCode, o.signalCode]));
      for (const f of readdirSync(join(home, 'logs'))) console.log(`[cold-start] ${f}:\n${readFileSync(join(home, 'logs', f), 'utf8').slice(-4000)}`);
      await stopFleetManager(home);
    }
    for (const reply of replies) expect(reply === undefined || reply === 'gave-up', 'a kernel_info_reply through each router').toBe(false);

    // manager.starting let one of them start the manager; the others waited for its socket.
    const log = await readFile(join(home, 'logs', 'manager.log'), 'utf8');
    expect(log.match(/starting the fleet manager/g)).toHaveLength(1);
    const manager = await ManagerClient.connect({ home, autostart: false });
    try {
      const listed = await manager.request<ListedBackend[]>({ op: 'list' });
      expect(listed).toHaveLength(1);
      expect(listed[0]!.attached.map((a) => a.pid).sort()).toEqual(others.map((r) => r.pid).sort());
    } finally {
      manager.close();
    }
    await Promise.all(others.map(stop));
    await stopFleetManager(home);
  });
});
