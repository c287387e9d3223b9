/**
 * ProxyRouter wired for real (Frontend bound on ipc, BackendSlots linked to KernelPeers) with
 * a FakeDirectory behind it, and a ClientPeer in front as Jupyter's client. What a client sees
 * for relaying, the router's own answers, ownership across two backends, death and stopping.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ProxyRouter, type RequestResolver } from '../../../src/router/proxy.js';
import type { RestartPolicy } from '../../../src/router/restart-policy.js';
import type { Requirement as RequirementRef } from '../../../src/shared/requirement.js';
import type { BackendUsage } from '../../../src/shared/backend.js';
import { silentLogger } from '../../../src/shared/log.js';
import { FakeDirectory, leaseOn, type FakeLease } from '../../helpers/fake-directory.js';
import { ClientPeer, KernelPeer, loopbackConnection, removeIpcDirs } from '../../helpers/zmq-peers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f(); });
afterAll(removeIpcDirs);

const lua: RequirementRef = { runtime: 'lua', provider: 'openai' };

/** One KernelPeer per runtime, started on first acquire; a peer asked to shut down exits. */
class Backends {
  readonly #peers = new Map<string, Promise<KernelPeer>>();
  readonly leases: FakeLease[] = [];
  shared = false;
  /** What each lease's usage() answers (a fleet measures its backends); none: the lease measures nothing. */
  usage: (() => Promise<BackendUsage | undefined>) | undefined;

  constructor() {
    // Registered before the router's stop, so peers outlive it and can answer its shutdown_request.
    cleanup.push(async () => { for (const p of this.#peers.values()) (await p).close(); });
  }

  peer(runtime: string): Promise<KernelPeer> {
    let p = this.#peers.get(runtime);
    if (!p) {
      p = KernelPeer.start('ipc');
      this.#peers.set(runtime, p);
    }
    return p;
  }

  directory(): FakeDirectory {
    const directory = new FakeDirectory();
    void (async () => {
      for (;;) {
        const acquisition = await directory.next();
        const p = await this.peer(acquisition.requirement.runtime);
        const lease = leaseOn(p, { requirement: acquisition.requirement, shared: this.shared });
        if (this.usage) Object.assign(lease, { usage: this.usage });
        this.leases.push(lease);
        // The process behind every lease on this peer ends when it is asked to shut down.
        void p.inbox.control.next('shutdown_request').then(() => { for (const l of this.leases) if (l.connection === p.info) l.exit({ exitCode: 0 }); });
        acquisition.resolve(lease);
      }
    })();
    return directory;
  }
}

async function start(options: { directory: FakeDirectory; resolver?: RequestResolver; restartPolicy?: RestartPolicy; maxMessageBytes?: number }) {
  const connection = await loopbackConnection('ipc');
  let onStopped!: (code: number) => void;
  const stopped = new Promise<number>((r) => (onStopped = r));
  const router = new ProxyRouter({ connection, requirement: lua, logger: silentLogger(), onStopped, ...options });
  await router.start();
  cleanup.push(() => router.stop());
  const client = new ClientPeer(connection);
  cleanup.push(() => client.close());
  await client.inbox.iopub.next('iopub_welcome');
  return { router, client, stopped };
}

describe('ProxyRouter', () => {
  it('relays a request to the backend and its reply and output back to the client', async () => {
    const backends = new Backends();
    const { router, client } = await start({ directory: backends.directory() });
    const request = client.request('shell', 'execute_request', { code: 'x = 1' });
    const peer = await backends.peer('lua');
    const got = await peer.inbox.shell.next('execute_request');
    expect(got.msgId).toBe(request.msgId);
    peer.publish('stream', { name: 'stdout', text: 'one\n' }, got.header);
    peer.reply('shell', got, 'execute_reply', { status: 'ok', execution_count: 7 });
    // The backend's own count (7) becomes the session's: this is the session's first cell.
    expect((await client.replyTo('shell', request)).content()).toEqual({ status: 'ok', execution_count: 1 });
    expect((await client.iopubFor(request, 'stream')).content()).toEqual({ name: 'stdout', text: 'one\n' });
    expect(router.stats).toMatchObject({ forwardedToBackend: 1, forwardedToClients: 1 });
    expect(router.stats.iopubPublished).toBeGreaterThanOrEqual(1);
    expect(router.defaultSlot?.state).toBe('ready');
  });

  it('answers kernel_info itself, with the reason, when no backend can be had', async () => {
    const directory = new FakeDirectory(() => new Error('runtime "lua" has no argv in fleet.toml'));
    const { client } = await start({ directory });
    const request = client.request('shell', 'kernel_info_request', {});
    const reply = await client.replyTo('shell', request);
    expect(reply.content()).toMatchObject({ status: 'ok', implementation: 'llmspell-fleet' });
    expect(String(reply.content().banner)).toContain('runtime "lua" has no argv in fleet.toml');
    expect((await client.iopubFor(request, 'status')).content()).toEqual({ execution_state: 'busy' });
  });

  it('does not start a failed backend again for what a client sends by itself; a cell does', async () => {
    const directory = new FakeDirectory(() => new Error('llmspell was not found on PATH'));
    const { client } = await start({ directory });
    const first = client.request('shell', 'is_complete_request', { code: 'x =' });
    expect((await client.replyTo('shell', first)).content()).toEqual({ status: 'unknown' });
    const attempts = directory.acquired.length;
    for (let i = 0; i < 10; i++) {
      const typing = client.request('shell', i % 2 ? 'is_complete_request' : 'complete_request', { code: 'pri', cursor_pos: 3 });
      await client.replyTo('shell', typing);
    }
    expect(directory.acquired.length).toBe(attempts);
    const cell = client.request('shell', 'execute_request', { code: 'print(1)' });
    const reply = await client.replyTo('shell', cell);
    expect(reply.content()).toMatchObject({ status: 'error', evalue: expect.stringContaining('llmspell was not found on PATH') });
    expect(directory.acquired.length).toBe(attempts + 1);
  });

  it('answers a fleet magic itself; the backend never sees it', async () => {
    const backends = new Backends();
    const { client } = await start({ directory: backends.directory() });
    const request = client.request('shell', 'execute_request', { code: '%llmspell help' });
    const reply = await client.replyTo('shell', request);
    expect(reply.content()).toMatchObject({ status: 'ok', execution_count: 1 });
    const peer = await backends.peer('lua');
    expect(peer.inbox.shell.all.filter((m) => m.msgType === 'execute_request')).toEqual([]);
  });

  it('answers a resolver error with an error reply and the error on iopub', async () => {
    const backends = new Backends();
    const resolver: RequestResolver = { resolve: ({ code }) => (code?.startsWith('%%llmspell') ? { requirement: lua, error: 'unknown runtime "cobol"' } : { requirement: lua }) };
    const { client } = await start({ directory: backends.directory(), resolver });
    const request = client.request('shell', 'execute_request', { code: '%%llmspell runtime=cobol\nx' });
    expect((await client.replyTo('shell', request)).content()).toMatchObject({ status: 'error', evalue: 'unknown runtime "cobol"' });
    expect((await client.iopubFor(request, 'error')).content()).toMatchObject({ ename: 'FleetError' });
  });

  it('sends comm traffic to the backend that holds the comm, across two backends', async () => {
    const backends = new Backends();
    const resolver: RequestResolver = {
      resolve: ({ metadata }) => ({ requirement: { runtime: (metadata as { runtime?: string }).runtime ?? 'lua', provider: 'openai' } }),
    };
    const { client } = await start({ directory: backends.directory(), resolver });
    client.request('shell', 'comm_open', { comm_id: 'w1', target_name: 'jupyter.widget', data: {} }, { runtime: 'python' });
    const python = await backends.peer('python');
    await python.inbox.shell.next('comm_open');
    const msg = client.request('shell', 'comm_msg', { comm_id: 'w1', data: { value: 2 } });
    expect((await python.inbox.shell.next('comm_msg')).msgId).toBe(msg.msgId);
    const luaPeer = await backends.peer('lua');
    expect(luaPeer.inbox.shell.all.map((m) => m.msgType)).not.toContain('comm_msg');
  });

  it('interrupts only a backend running this router\'s cell, and answers interrupt_request itself', async () => {
    const backends = new Backends();
    const { client } = await start({ directory: backends.directory() });
    const idle = client.request('control', 'interrupt_request', {});
    expect((await client.replyTo('control', idle)).content()).toEqual({ status: 'ok' });
    const peer = await backends.peer('lua');
    expect(peer.inbox.control.all.map((m) => m.msgType)).not.toContain('interrupt_request');
    client.request('shell', 'execute_request', { code: 'long' });
    await peer.inbox.shell.next('execute_request');
    const busy = client.request('control', 'interrupt_request', {});
    await client.replyTo('control', busy);
    // The backend gets the router's own interrupt_request (message mode), not the client's.
    const forwarded = await peer.inbox.control.next('interrupt_request');
    expect(forwarded.msgId).not.toBe(busy.msgId);
  });

  describe('usage_request (JupyterLab usage panel)', () => {
    const measured: BackendUsage = { pid: 4242, hostname: 'box', processes: 2, residentBytes: 5_000_000, cpuPercent: 1.5, cpuCount: 2 };

    /** A router whose default backend has run one cell (so it is ready), and its peer. */
    async function ready(backends: Backends) {
      const { client } = await start({ directory: backends.directory() });
      const cell = client.request('shell', 'execute_request', { code: 'x' });
      const peer = await backends.peer('lua');
      peer.reply('shell', await peer.inbox.shell.next('execute_request'), 'execute_reply', { status: 'ok', execution_count: 1 });
      await client.replyTo('shell', cell);
      return { client, peer };
    }

    it("is answered by the router from the lease's measurement of the default backend, which never sees it", async () => {
      const backends = new Backends();
      backends.usage = async () => measured;
      const { client, peer } = await ready(backends);
      const request = client.request('control', 'usage_request', {});
      const reply = await client.replyTo('control', request);
      expect(reply.msgType).toBe('usage_reply');
      expect(reply.content()).toEqual({ hostname: 'box', pid: 4242, kernel_cpu: 1.5, kernel_memory: 5_000_000, cpu_count: 2 });
      expect((await client.iopubFor(request, 'status')).content()).toEqual({ execution_state: 'busy' });
      expect(peer.inbox.control.all.map((m) => m.msgType)).not.toContain('usage_request');
    });

    it('gets the error reply when the backend cannot be measured (gone)', async () => {
      const backends = new Backends();
      backends.usage = async () => undefined;
      const { client } = await ready(backends);
      const reply = await client.replyTo('control', client.request('control', 'usage_request', {}));
      expect(reply.msgType).toBe('usage_reply');
      expect(reply.content()).toMatchObject({ status: 'error', ename: 'FleetError' });
    });

    it('gets the error reply at once while the backend starts (the panel must not wait)', async () => {
      const { client } = await start({ directory: new FakeDirectory() });
      const reply = await client.replyTo('control', client.request('control', 'usage_request', {}));
      expect(reply.content()).toMatchObject({ status: 'error', ename: 'FleetError', evalue: 'no backend is running for this session yet' });
    });

    it('is left to the backend when its lease measures nothing', async () => {
      const backends = new Backends();
      const { client, peer } = await ready(backends);
      const request = client.request('control', 'usage_request', {});
      expect((await peer.inbox.control.next('usage_request')).msgId).toBe(request.msgId);
    });
  });

  it('fails the cell a dead backend had taken, tells the client, and starts a new backend', async () => {
    const backends = new Backends();
    const directory = backends.directory();
    const { client } = await start({ directory, restartPolicy: { limit: 5, windowMs: 60_000, firstDelayMs: 0 } });
    const request = client.request('shell', 'execute_request', { code: 'doomed' });
    const peer = await backends.peer('lua');
    await peer.inbox.shell.next('execute_request');
    backends.leases[0]!.exit({ exitCode: null, signal: 'SIGKILL', reason: 'signalled' });
    const reply = await client.replyTo('shell', request);
    expect(reply.content()).toMatchObject({ status: 'error', evalue: `the lua/openai backend (pid ${backends.leases[0]!.pid}) was killed by SIGKILL before it answered; run it again` });
    const notice = await client.inbox.iopub.next((m) => m.msgType === 'stream' && String(m.content().text).includes('a new one is starting'));
    expect(notice.content().name).toBe('stderr');
    await client.inbox.iopub.next((m) => m.msgType === 'status' && m.content().execution_state === 'restarting');
    // The restart: a second acquire for the same requirement, and the next cell runs there.
    const next = client.request('shell', 'execute_request', { code: 'again' });
    const got = await peer.inbox.shell.next((m) => m.msgId === next.msgId);
    expect(got.content()).toEqual({ code: 'again' });
    expect(directory.acquired).toEqual([lua, lua]);
  });

  it("a crash: the cell's error and the notice give the exit code and the backend's last lines", async () => {
    const backends = new Backends();
    const { client } = await start({ directory: backends.directory(), restartPolicy: { limit: 5, windowMs: 60_000, firstDelayMs: 0 } });
    const request = client.request('shell', 'execute_request', { code: 'doomed' });
    const peer = await backends.peer('lua');
    await peer.inbox.shell.next('execute_request');
    backends.leases[0]!.exit({ exitCode: 1, signal: null, reason: 'exited', stderrTail: 'lua: loaded config\nlua: panic: out of tokens\n' });
    const said = `the lua/openai backend (pid ${backends.leases[0]!.pid}) exited with code 1`;
    const reply = await client.replyTo('shell', request);
    expect(reply.content()).toMatchObject({ status: 'error', evalue: `${said} before it answered; run it again. Its last output:\nlua: loaded config\nlua: panic: out of tokens` });
    const notice = await client.inbox.iopub.next((m) => m.msgType === 'stream' && String(m.content().text).includes(said));
    expect(String(notice.content().text)).toMatch(/a new one is starting\.\nIts last output:\nlua: loaded config\nlua: panic: out of tokens\n$/);
  });

  it('refuses a request over the size limit with an error reply naming the limit', async () => {
    const backends = new Backends();
    const { client } = await start({ directory: backends.directory(), maxMessageBytes: 4096 });
    const request = client.request('shell', 'execute_request', { code: 'x'.repeat(10_000) });
    const reply = await client.replyTo('shell', request);
    expect(String(reply.content().evalue)).toMatch(/^this execute_request is 0\.0 MB, more than router\.max_message_mb \(0\.0 MB\) allows/);
  });

  it('on shutdown_request replies, stops the backend nobody else uses, closes, and reports exit code 0', async () => {
    const backends = new Backends();
    const { router, client, stopped } = await start({ directory: backends.directory() });
    await client.replyTo('shell', client.request('shell', 'kernel_info_request', {}));
    const request = client.request('control', 'shutdown_request', { restart: false });
    expect((await client.replyTo('control', request)).content()).toEqual({ status: 'ok', restart: false });
    expect(await stopped).toBe(0);
    expect(router.state).toBe('stopped');
    expect(backends.leases.map((l) => l.releases)).toEqual([[{ stop: true }]]);
    await router.stop(); // idempotent
  });

  it('on a restart request restarts a shared backend for everyone and only detaches from it', async () => {
    const backends = new Backends();
    backends.shared = true;
    const directory = backends.directory();
    const { router, client, stopped } = await start({ directory });
    await client.replyTo('shell', client.request('shell', 'kernel_info_request', {}));
    let restarts = 0;
    Object.assign(backends.leases[0]!, { restart: async () => { restarts++; } });
    await client.replyTo('control', client.request('control', 'shutdown_request', { restart: true }));
    expect(await stopped).toBe(0);
    expect(restarts).toBe(1);
    expect(backends.leases[0]!.releases).toEqual([{ stop: false }]);
    expect(router.state).toBe('stopped');
  });
});
