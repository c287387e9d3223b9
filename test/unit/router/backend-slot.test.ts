/**
 * BackendSlot against a FakeDirectory whose leases point at KernelPeers over ipc: start, held
 * requests, failure, death, requests in flight, interrupt, close and replacement.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { RequestChannel } from '../../../src/router/backend-link.js';
import { BackendSlot, type SlotEvents } from '../../../src/router/backend-slot.js';
import { requirementKey, type Requirement as RequirementRef } from '../../../src/shared/requirement.js';
import { describeExit } from '../../../src/shared/exit.js';
import { silentLogger } from '../../../src/shared/log.js';
import { createMessage, type WireMessage } from '../../../src/wire/codec.js';
import { FakeDirectory, leaseOn, type FakeLease } from '../../helpers/fake-directory.js';
import { Inbox, KernelPeer, removeIpcDirs } from '../../helpers/zmq-peers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f(); });
afterAll(removeIpcDirs);

const requirement: RequirementRef = { runtime: 'lua', provider: 'openai' };

async function peer(): Promise<KernelPeer> {
  const p = await KernelPeer.start('ipc');
  cleanup.push(() => p.close());
  return p;
}

interface Recorded {
  events: SlotEvents;
  clientBound: Inbox;
  unserved: string[];
  failed: string[];
  exited: string[];
  restarting: number;
  heartbeat: Inbox<{ responsive: boolean; silentMs: number }>;
}

function recorder(): Recorded {
  const r: Recorded = {
    clientBound: new Inbox(), unserved: [], failed: [], exited: [], restarting: 0, heartbeat: new Inbox(),
    events: {
      onClientBound: (_s, _c, msg) => r.clientBound.push(msg),
      onIopub: () => {},
      onRejected: () => {},
      onUnserved: (_s, _c, msg) => r.unserved.push(msg.msgType),
      onFailed: (_s, reason) => r.failed.push(reason),
      onExited: (_s, how) => r.exited.push(how),
      onRestarting: () => { r.restarting++; },
      onHeartbeat: (_s, responsive, silentMs) => r.heartbeat.push({ responsive, silentMs }),
    },
  };
  return r;
}

function slot(directory: FakeDirectory, r: Recorded, maxPending?: number, heartbeatTimeoutMs?: number): BackendSlot {
  const s = new BackendSlot({ requirement, directory, logger: silentLogger(), events: r.events, ...(maxPending !== undefined ? { maxPending } : {}), ...(heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs } : {}) });
  cleanup.push(() => s.close({ stop: false }));
  return s;
}

const fromClient = (msgType: string, content: object = {}): WireMessage =>
  createMessage({ msgType, content, session: 'client', identities: [Buffer.from('client-1')] });

/** A slot started on a fresh peer, and ready. */
async function readySlot(options: { interruptMode?: 'signal' | 'message'; heartbeatTimeoutMs?: number } = {}) {
  const p = await peer();
  let lease!: FakeLease;
  const directory = new FakeDirectory((req) => (lease = leaseOn(p, { requirement: req, ...(options.interruptMode ? { interruptMode: options.interruptMode } : {}) })));
  const r = recorder();
  const s = slot(directory, r, undefined, options.heartbeatTimeoutMs);
  await s.start();
  return { p, lease, directory, r, s };
}

describe('BackendSlot', () => {
  it('has the requirement key and starts in starting', () => {
    const s = slot(new FakeDirectory(), recorder());
    expect(s.key).toBe('lua/openai');
    expect(s.state).toBe('starting');
  });

  it('holds requests while starting and sends them in order once the backend is ready', async () => {
    const p = await peer();
    const directory = new FakeDirectory();
    const r = recorder();
    const s = slot(directory, r);
    const started = s.start();
    const sent = ['a', 'b', 'c'].map((code) => fromClient('execute_request', { code }));
    for (const m of sent) expect(s.submit('shell', m)).toBe(true);
    const acquisition = await directory.next();
    expect(acquisition.requirement).toEqual(requirement);
    acquisition.resolve(leaseOn(p, { requirement }));
    await started;
    expect(s.state).toBe('ready');
    const got = [await p.inbox.shell.next('execute_request'), await p.inbox.shell.next('execute_request'), await p.inbox.shell.next('execute_request')];
    expect(got.map((m) => m.content().code)).toEqual(['a', 'b', 'c']);
  });

  it('refuses a request past maxPending while starting', () => {
    const s = slot(new FakeDirectory(), recorder(), 1);
    expect(s.submit('shell', fromClient('execute_request'))).toBe(true);
    expect(s.submit('shell', fromClient('execute_request'))).toBe(false);
  });

  it('fails when the directory cannot give a backend, and hands held requests back as unserved', async () => {
    const r = recorder();
    const s = slot(new FakeDirectory(() => new Error('no such runtime "lua"')), r);
    s.submit('shell', fromClient('execute_request'));
    s.submit('control', fromClient('kernel_info_request'));
    await s.start();
    await s.settled;
    expect(s.state).toBe('failed');
    expect(s.failure).toContain('no such runtime "lua"');
    expect(r.failed).toEqual([s.failure]);
    expect(r.unserved).toEqual(['execute_request', 'kernel_info_request']);
    // Later requests are unserved at once.
    s.submit('shell', fromClient('complete_request'));
    expect(r.unserved.at(-1)).toBe('complete_request');
  });

  it('fails to start, with the backend\'s last output, when it dies before it is ready', async () => {
    const p = await peer();
    p.close(); // nobody answers kernel_info
    const directory = new FakeDirectory();
    const r = recorder();
    const s = slot(directory, r);
    const started = s.start();
    const lease = leaseOn(p, { requirement });
    (await directory.next()).resolve(lease);
    lease.exit({ exitCode: 3, stderrTail: 'lua: config.toml: bad key\n' });
    await started;
    expect(s.state).toBe('failed');
    expect(s.failure).toBe(`the lua/openai backend (pid ${lease.pid}) exited with code 3 before it was ready; its last output:\nlua: config.toml: bad key`);
    expect(r.exited).toEqual([]);
  });

  it('reports the death of a ready backend once, as onExited', async () => {
    const { lease, r, s } = await readySlot();
    lease.exit({ exitCode: null, signal: 'SIGKILL', reason: 'signalled' });
    await lease.exited;
    await new Promise<void>((res) => setImmediate(res));
    expect(r.exited).toEqual(['was killed by SIGKILL']);
    expect(s.state).toBe('failed');
    expect(s.failure).toBe(`the lua/openai backend (pid ${lease.pid}) was killed by SIGKILL`);
  });

  it('is running while an execute_request of ours awaits its reply, and hands unanswered requests back', async () => {
    const { p, r, s } = await readySlot();
    expect(s.running).toBe(false);
    const cell = fromClient('execute_request', { code: 'x' });
    const info = fromClient('complete_request');
    s.submit('shell', cell);
    s.submit('shell', info);
    s.submit('stdin', fromClient('input_reply'));
    expect(s.running).toBe(true);
    const got = await p.inbox.shell.next('execute_request');
    p.reply('shell', got, 'execute_reply', { status: 'ok' });
    await r.clientBound.next('execute_reply');
    expect(s.running).toBe(false);
    const left = s.takeInFlight();
    expect(left.map((x) => [x.channel, x.msg.msgType] as [RequestChannel, string])).toEqual([['shell', 'complete_request']]);
    expect(s.takeInFlight()).toEqual([]);
  });

  it('interrupts with an interrupt_request in message mode', async () => {
    const { p, lease, s } = await readySlot({ interruptMode: 'message' });
    s.interrupt();
    await p.inbox.control.next('interrupt_request');
    expect(lease.interrupts).toBe(0);
  });

  it('interrupts with the lease\'s signal in signal mode, and not at all before it is ready', async () => {
    const { lease, s } = await readySlot({ interruptMode: 'signal' });
    s.interrupt();
    expect(lease.interrupts).toBe(1);
    const idle = slot(new FakeDirectory(), recorder());
    expect(() => idle.interrupt()).not.toThrow();
  });

  it('asks a ready backend it stops to shut down politely, then releases it with stop', async () => {
    const { p, lease, s } = await readySlot();
    const closing = s.close({ stop: true, politeShutdown: true });
    const shutdown = await p.inbox.control.next('shutdown_request');
    expect(shutdown.content()).toEqual({ restart: false });
    lease.exit({ exitCode: 0 });
    await Promise.all([closing, s.close({ stop: false })]);
    expect(s.state).toBe('closed');
    expect(lease.releases).toEqual([{ stop: true }]);
  });

  it('gives back a lease that arrives after it was closed, without stopping it', async () => {
    const p = await peer();
    const directory = new FakeDirectory();
    const s = slot(directory, recorder());
    const started = s.start();
    const acquisition = await directory.next();
    await s.close({ stop: true });
    expect(acquisition.signal.aborted).toBe(true);
    const lease = leaseOn(p, { requirement });
    acquisition.resolve(lease);
    await started;
    expect(lease.releases).toEqual([{ stop: false }]);
    expect(s.state).toBe('closed');
  });

  it('tells when the heartbeat of a backend running none of our cells goes silent, and when it is back', async () => {
    const { p, r } = await readySlot({ heartbeatTimeoutMs: 1000 });
    p.heartbeat(false);
    const silent = await r.heartbeat.next();
    expect(silent.responsive).toBe(false);
    expect(silent.silentMs).toBeGreaterThanOrEqual(1000);
    p.heartbeat(true);
    expect(await r.heartbeat.next()).toEqual({ responsive: true, silentMs: 0 });
  });

  it('moves to the new process when another router restarts the shared backend, holding requests meanwhile', async () => {
    const { lease, r, s } = await readySlot();
    const next = await peer();
    const nextLease = leaseOn(next, { requirement });
    lease.replaceWith(nextLease);
    expect(r.restarting).toBe(1);
    expect(s.state).toBe('starting');
    s.submit('shell', fromClient('execute_request', { code: 'after restart' }));
    const got = await next.inbox.shell.next('execute_request');
    expect(got.content()).toEqual({ code: 'after restart' });
    expect(s.state).toBe('ready');
    expect(s.lease).toBe(nextLease);
    // The old process's exit is not this slot's death any more.
    lease.exit();
    await lease.exited;
    await new Promise<void>((res) => setImmediate(res));
    expect(r.exited).toEqual([]);
  });
});

describe('describeExit', () => {
  it.each([
    [{ exitCode: null, signal: 'SIGKILL', reason: 'signalled' }, 'was killed by SIGKILL'],
    [{ exitCode: 3, signal: null, reason: 'exited' }, 'exited with code 3'],
    [{ exitCode: 0, signal: null, reason: 'exited' }, 'exited with code 0'],
    [{ exitCode: null, signal: 'SIGTERM', reason: 'stopped' }, 'was stopped'],
    [{ exitCode: null, signal: null, reason: 'lost' }, 'lost'],
    [{ exitCode: 2, signal: null }, 'exited with code 2'],
    [{ exitCode: null, signal: 'SIGTERM' }, 'was killed by SIGTERM'],
    // a limit's own words win over the signal it used
    [{ exitCode: null, signal: 'SIGKILL', reason: 'memory-limit', cause: 'killed: memory limit 512 MB reached' }, 'was killed: memory limit 512 MB reached'],
  ])('%j -> %s', (exit, text) => {
    expect(describeExit(exit)).toBe(text);
  });
});
