/**
 * The router as a relay, measured against a fixture kernel that stresses one property at a time
 * (test/fixtures/flood-kernel.mjs): volume and order on iopub, big binary buffers, requests
 * queued while the backend starts, control beside a busy shell, identity routing between two
 * clients, and the heartbeat. The router is started the way Jupyter starts a kernel: we write
 * its connection file and run `llmspell-fleet router --connection-file F`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { createMessage, decode, encode, type WireMessage } from '../../src/wire/codec.js';
import { endpoint, parseConnectionInfo, type ConnectionInfo } from '../../src/wire/connection-file.js';
import { createSigner, type Signer } from '../../src/wire/sign.js';
import { REPO_ROOT, withJupyterEnv, type JupyterEnv } from '../helpers/e2e.js';
import { stopFleetManager, writeClientConnectionFile } from '../helpers/fleet-env.js';
import { waitForNoProcesses } from '../helpers/processes.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const FLOOD_KERNEL = join(REPO_ROOT, 'test', 'fixtures', 'flood-kernel.mjs');
const TEST_TIMEOUT_MS = 180_000;

function log(message: string): void {
  console.log(`[router-relay] ${message}`);
}

/** Rejects after `ms` with a message naming what did not happen. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Processes: the router as Jupyter runs it, and the fixture run directly.


interface Proc {
  child: ChildProcess;
  info: ConnectionInfo;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

function track(child: ChildProcess, info: ConnectionInfo): Proc {
  const err: Buffer[] = [];
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  child.stdout?.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, info, exit, stderr: () => Buffer.concat(err).toString('utf8') };
}

/** fleet.toml with one runtime, "flood", running the fixture kernel. */
async function writeFloodConfig(jenv: JupyterEnv): Promise<string> {
  const config = join(jenv.dir, 'fleet.toml');
  await writeFile(
    config,
    [
      'default_runtime = "flood"',
      'default_provider = "none"',
      // Fleet mode: the backend stops as soon as its last router leaves.
      'linger_seconds = 0',
      '[runtimes.flood]',
      `argv = ${JSON.stringify([process.execPath, FLOOD_KERNEL, '{connection_file}'])}`,
      '[providers.none]',
      '',
    ].join('\n'),
  );
  return config;
}

/**
 * How the router gets its backend: through the fleet manager (the default: shared backends,
 * a manager autostarted in the test's home) or started by the router itself
 * (LLMSPELL_FLEET_MODE=local).
 */
type Mode = 'fleet' | 'local';

async function startRouter(jenv: JupyterEnv, options: { mode?: Mode; env?: Record<string, string> } = {}): Promise<Proc> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npx tsc -p tsconfig.json" first`);
  const config = await writeFloodConfig(jenv);
  const { file, info } = await writeClientConnectionFile(jenv, 'router');
  const env: NodeJS.ProcessEnv = { ...jenv.env, LLMSPELL_FLEET_CONFIG: config, JPY_PARENT_PID: String(process.pid), ...options.env };
  if (options.mode === 'local') env.LLMSPELL_FLEET_MODE = 'local';
  else delete env.LLMSPELL_FLEET_MODE;
  const child = spawn(process.execPath, [CLI, 'router', '--connection-file', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return track(child, info);
}

/** Every process the test started is gone (the fleet manager, if one was started, is stopped first). */
async function expectNothingLeft(jenv: JupyterEnv): Promise<void> {
  await stopFleetManager(jenv.homeDir);
  await waitForNoProcesses(jenv.dir, 15_000);
}

/** The fixture without a router, as a client would see it if it launched the kernel itself. */
async function startDirect(jenv: JupyterEnv): Promise<Proc> {
  const { file, info } = await writeClientConnectionFile(jenv, 'direct');
  const child = spawn(process.execPath, [FLOOD_KERNEL, file], { env: jenv.env, stdio: ['ignore', 'pipe', 'pipe'] });
  return track(child, info);
}

/** The router's own log, for assertion messages. */
function routerLog(jenv: JupyterEnv, proc: Proc): string {
  const file = join(jenv.homeDir, 'logs', `router-${proc.child.pid}.log`);
  try {
    const text = readFileSync(file, 'utf8');
    return text.length > 8000 ? '…' + text.slice(-8000) : text;
  } catch {
    return `(no log at ${file})`;
  }
}

/**
 * Ends a kernel process the way a client does (shutdown_request on control), asserts a clean
 * exit, and on any failure stops it with SIGTERM so the test's cleanup finds nothing left.
 * `afterFailure`: the test already failed; a shutdown problem is logged, not thrown over it.
 */
async function shutdown(client: TestClient, proc: Proc, what: string, afterFailure = false): Promise<void> {
  if (afterFailure) {
    await shutdown(client, proc, what).catch((error: unknown) => console.error(`[router-relay] ${what} shutdown after a failure: ${String(error)}`));
    return;
  }
  try {
    const { reply } = client.request('control', 'shutdown_request', { restart: false });
    const r = await within(reply, 10_000, `${what} shutdown_reply`);
    expect(r.msg.content<{ status: string }>().status).toBe('ok');
    const exit = await within(proc.exit, 15_000, `${what} to exit after shutdown_request`);
    expect(exit, `${what} exit status; stderr:\n${proc.stderr()}`).toEqual({ code: 0, signal: null });
  } finally {
    client.close();
    if (proc.child.exitCode === null && proc.child.signalCode === null) {
      proc.child.kill('SIGTERM');
      await within(proc.exit, 15_000, `${what} to exit after SIGTERM`).catch(() => proc.child.kill('SIGKILL'));
    }
  }
}

// ---------------------------------------------------------------------------------------------
// A client with all four channels, recording the order in which messages arrive.

type RequestChannel = 'shell' | 'control' | 'stdin';

interface Received {
  channel: RequestChannel | 'iopub';
  msg: WireMessage;
  /** Arrival order across every channel of this client. */
  seq: number;
  at: number;
}

class TestClient {
  readonly session = randomUUID();
  readonly signer: Signer;
  readonly sockets: Record<RequestChannel, zmq.Dealer> & { iopub: zmq.Subscriber };
  /** Replies whose parent is not a request of this client: identity routing gone wrong. */
  readonly foreign: Received[] = [];
  /** Messages that failed verification with the client's key. */
  rejected = 0;
  #seq = 0;
  #replies = new Map<string, (r: Received) => void>();
  #sent = new Set<string>();
  #iopubHandlers = new Set<(r: Received) => void>();
  #closed = false;

  constructor(readonly info: ConnectionInfo, readonly identity = `test-client-${randomUUID()}`) {
    this.signer = createSigner(info.key, info.signature_scheme);
    const opts = { routingId: identity, linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0 };
    this.sockets = {
      shell: new zmq.Dealer(opts),
      control: new zmq.Dealer(opts),
      stdin: new zmq.Dealer(opts),
      iopub: new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 0 }),
    };
    this.sockets.iopub.subscribe();
    for (const ch of ['shell', 'control', 'stdin', 'iopub'] as const) this.sockets[ch].connect(endpoint(info, ch));
    for (const ch of ['shell', 'control', 'stdin'] as const) void this.#read(ch);
    void this.#readIopub();
  }

  request(channel: RequestChannel, msgType: string, content: object): { msgId: string; reply: Promise<Received> } {
    const msg = createMessage({ msgType, content, session: this.session });
    this.#sent.add(msg.msgId);
    const reply = new Promise<Received>((resolve) => this.#replies.set(msg.msgId, resolve));
    void this.sockets[channel].send(encode(msg, this.signer));
    return { msgId: msg.msgId, reply };
  }

  execute(code: string): { msgId: string; reply: Promise<Received> } {
    return this.request('shell', 'execute_request', { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true });
  }

  onIopub(handler: (r: Received) => void): () => void {
    this.#iopubHandlers.add(handler);
    return () => this.#iopubHandlers.delete(handler);
  }

  /** The first iopub message from now on that matches. */
  nextIopub(match: (m: WireMessage) => boolean): Promise<Received> {
    return new Promise((resolve) => {
      const off = this.onIopub((r) => {
        if (match(r.msg)) {
          off();
          resolve(r);
        }
      });
    });
  }

  /** The idle status whose parent is `msgId`. */
  idle(msgId: string): Promise<Received> {
    return this.nextIopub((m) => m.msgType === 'status' && m.parentHeader.msg_id === msgId && m.content<{ execution_state: string }>().execution_state === 'idle');
  }

  /** jupyter_client's readiness rule: a kernel_info_reply and some iopub traffic. */
  async waitReady(timeoutMs = 30_000): Promise<WireMessage> {
    const deadline = Date.now() + timeoutMs;
    let iopubSeen = false;
    const off = this.onIopub(() => (iopubSeen = true));
    try {
      while (Date.now() < deadline) {
        const { reply } = this.request('shell', 'kernel_info_request', {});
        const r = await within(reply, 1000, 'kernel_info_reply').catch(() => undefined);
        if (r === undefined) continue;
        if (!iopubSeen) await within(this.nextIopub(() => true), 1000, 'iopub').catch(() => undefined);
        if (iopubSeen) return r.msg;
      }
      throw new Error(`kernel not ready within ${timeoutMs} ms`);
    } finally {
      off();
    }
  }

  close(): void {
    this.#closed = true;
    for (const s of Object.values(this.sockets)) if (!s.closed) s.close();
  }

  async #read(channel: RequestChannel): Promise<void> {
    try {
      for await (const frames of this.sockets[channel]) {
        const r = decode(frames, { signer: this.signer });
        if (!r.ok) {
          this.rejected++;
          continue;
        }
        const received: Received = { channel, msg: r.msg, seq: ++this.#seq, at: Date.now() };
        const parent = r.msg.parentHeader.msg_id;
        if (parent === undefined || !this.#sent.has(parent)) {
          this.foreign.push(received);
          continue;
        }
        const resolve = this.#replies.get(parent);
        this.#replies.delete(parent);
        resolve?.(received);
      }
    } catch (error) {
      if (!this.#closed) throw error;
    }
  }

  async #readIopub(): Promise<void> {
    try {
      for await (const frames of this.sockets.iopub) {
        const r = decode(frames, { signer: this.signer });
        if (!r.ok) {
          this.rejected++;
          continue;
        }
        const received: Received = { channel: 'iopub', msg: r.msg, seq: ++this.#seq, at: Date.now() };
        for (const h of [...this.#iopubHandlers]) h(received);
      }
    } catch (error) {
      if (!this.#closed) throw error;
    }
  }
}

// ---------------------------------------------------------------------------------------------

interface FloodResult {
  received: number;
  outOfOrder: number;
  firstOutOfOrder?: string;
  badSize: number;
  seconds: number;
  rate: number;
  lastStreamSeq: number;
  idleSeq: number;
  reply: Received;
  /** Stream messages received when the execute_reply arrived. */
  streamsAtReply: number;
}

/** Runs `flood n size` and checks every stream message's sequence number as it arrives. */
async function flood(client: TestClient, n: number, size: number, timeoutMs = 120_000): Promise<FloodResult> {
  let msgId = '';
  let next = 0;
  let outOfOrder = 0;
  let firstOutOfOrder: string | undefined;
  let badSize = 0;
  let lastStreamSeq = 0;
  let idleSeq = 0;
  let idle!: () => void;
  const idleSeen = new Promise<void>((resolve) => (idle = resolve));
  const off = client.onIopub(({ msg, seq }) => {
    if (msg.parentHeader.msg_id !== msgId) return;
    if (msg.msgType === 'stream') {
      const text = msg.content<{ text: string }>().text;
      const got = Number(text.slice(0, text.indexOf(' ')));
      if (got !== next) {
        outOfOrder++;
        firstOutOfOrder ??= `expected ${next}, got ${got}`;
      }
      if (Buffer.byteLength(text) !== size) badSize++;
      next = got + 1;
      lastStreamSeq = seq;
    } else if (msg.msgType === 'status' && msg.content<{ execution_state: string }>().execution_state === 'idle') {
      idleSeq = seq;
      idle();
    }
  });
  let received = 0;
  const count = client.onIopub(({ msg }) => {
    if (msg.parentHeader.msg_id === msgId && msg.msgType === 'stream') received++;
  });
  const started = process.hrtime.bigint();
  try {
    const r = client.execute(`flood ${n} ${size}`);
    msgId = r.msgId;
    let streamsAtReply = -1;
    void r.reply.then(() => (streamsAtReply = received));
    const [reply] = await within(Promise.all([r.reply, idleSeen]), timeoutMs, `flood ${n} ${size}: execute_reply and idle`);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return { received, outOfOrder, firstOutOfOrder, badSize, seconds, rate: received / seconds, lastStreamSeq, idleSeq, reply, streamsAtReply };
  } finally {
    off();
    count();
  }
}

async function backendConnection(jenv: JupyterEnv): Promise<ConnectionInfo> {
  const dir = join(jenv.homeDir, 'backends');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  expect(files, `backend connection files in ${dir}`).toHaveLength(1);
  const file = join(dir, files[0]!);
  return parseConnectionInfo(await readFile(file, 'utf8'), file);
}

/** One heartbeat round trip on a fresh REQ socket; undefined if no echo within `ms`. */
async function ping(info: ConnectionInfo, payload: Buffer, ms: number): Promise<Buffer | undefined> {
  const socket = new zmq.Request({ linger: 0, receiveTimeout: ms, sendTimeout: ms });
  socket.connect(endpoint(info, 'hb'));
  try {
    await socket.send(payload);
    const [echo] = await socket.receive();
    return echo;
  } catch (error) {
    if ((error as { code?: string }).code === 'EAGAIN') return undefined;
    throw error;
  } finally {
    socket.close();
  }
}

const N_FLOOD = 200_000;
const FLOOD_SIZE = 100;

describe('router relay (flood-kernel fixture)', () => {
  it(`relays ${N_FLOOD} iopub stream messages complete and in order, then idle and execute_reply (direct rate vs routed rate)`, async () => {
    await withJupyterEnv(async (jenv) => {
      const rates: Record<string, number> = {};
      for (const mode of ['direct', 'routed'] as const) {
        const proc = mode === 'direct' ? await startDirect(jenv) : await startRouter(jenv);
        const client = new TestClient(proc.info);
        let passed = false;
        try {
          await client.waitReady();
          const r = await flood(client, N_FLOOD, FLOOD_SIZE);
          const why = `${mode}: ${JSON.stringify({ ...r, reply: undefined })}\n${mode === 'routed' ? routerLog(jenv, proc) : proc.stderr()}`;
          expect(r.received, why).toBe(N_FLOOD);
          expect(r.outOfOrder, why).toBe(0);
          expect(r.badSize, why).toBe(0);
          expect(r.reply.msg.content<{ status: string }>().status, why).toBe('ok');
          // The idle that ends the request follows the last output: same channel, so ordered. The
          // execute_reply travels on shell, another socket, and may overtake iopub even without a
          // router (the fixture sends it after its last stream message, yet a direct client often
          // gets it mid-flood), which is why clients wait for idle; so its position is only logged.
          expect(r.idleSeq, why).toBeGreaterThan(r.lastStreamSeq);
          expect(client.rejected, why).toBe(0);
          rates[mode] = r.rate;
          log(`${mode}: ${N_FLOOD} x ${FLOOD_SIZE} B in ${r.seconds.toFixed(2)} s = ${r.rate.toFixed(0)} msg/s; ` +
            `execute_reply arrived after ${r.streamsAtReply} of the stream messages`);
          passed = true;
        } finally {
          await shutdown(client, proc, mode === 'direct' ? 'flood-kernel' : 'router', !passed);
        }
      }
      log(`routed/direct rate: ${(rates.routed! / rates.direct!).toFixed(2)}`);
      await expectNothingLeft(jenv);
    });
  }, TEST_TIMEOUT_MS);

  it('relays a 20 MB display_data binary buffer intact', async () => {
    await withJupyterEnv(async (jenv) => {
      const router = await startRouter(jenv);
      const client = new TestClient(router.info);
      let passed = false;
      try {
        await client.waitReady();
        const size = 20 * 1024 * 1024;
        let msgId = '';
        const display = client.nextIopub((m) => m.msgType === 'display_data' && m.parentHeader.msg_id === msgId);
        const r = client.execute(`bytes ${size}`);
        msgId = r.msgId;
        const [shown, reply] = await within(Promise.all([display, r.reply]), 60_000, 'display_data and execute_reply');
        expect(reply.msg.content<{ status: string }>().status).toBe('ok');
        const text = shown.msg.content<{ data: Record<string, string> }>().data['text/plain'];
        const m = /^(\d+) bytes sha256 ([0-9a-f]{64})$/.exec(text ?? '');
        expect(m, `display_data text/plain: ${text}`).not.toBeNull();
        expect(Number(m![1])).toBe(size);
        expect(shown.msg.buffers).toHaveLength(1);
        const buffer = shown.msg.buffers[0]!;
        expect(buffer.length).toBe(size);
        expect(createHash('sha256').update(buffer).digest('hex')).toBe(m![2]);
        passed = true;
      } finally {
        await shutdown(client, router, 'router', !passed);
      }
      await expectNothingLeft(jenv);
    });
  }, TEST_TIMEOUT_MS);

  it.each(['fleet', 'local'] as const)('holds shell and control requests sent while the backend is still starting, and says `starting` on iopub (%s)', async (mode) => {
    await withJupyterEnv(async (jenv) => {
      const delayMs = 1500;
      const spawnedAt = Date.now();
      const router = await startRouter(jenv, { mode, env: { FLOOD_KERNEL_START_DELAY_MS: String(delayMs) } });
      // Connected and sending at once, as Jupyter does right after launching the kernel.
      const client = new TestClient(router.info);
      let passed = false;
      try {
        const welcome = client.nextIopub((m) => m.msgType === 'iopub_welcome');
        const starting = client.nextIopub((m) => m.msgType === 'status' && m.content<{ execution_state: string }>().execution_state === 'starting');
        const shellInfo = client.request('shell', 'kernel_info_request', {});
        const controlInfo = client.request('control', 'kernel_info_request', {});
        const [w, s] = await within(Promise.all([welcome, starting]), 10_000, 'iopub_welcome and status starting');
        const [shellReply, controlReply] = await within(Promise.all([shellInfo.reply, controlInfo.reply]), 30_000, 'kernel_info_reply on shell and control');
        const why = routerLog(jenv, router);
        for (const [channel, reply] of [['shell', shellReply], ['control', controlReply]] as const) {
          const content = reply.msg.content<{ implementation: string; flood_kernel?: { bound_at: number } }>();
          // Answered by the backend itself, not by the router standing in for it.
          expect(content.implementation, `${channel}: ${why}`).toBe('flood-kernel');
          const boundAt = content.flood_kernel!.bound_at;
          expect(boundAt - spawnedAt, `${channel}: the backend bound ${boundAt - spawnedAt} ms after the router was spawned`).toBeGreaterThanOrEqual(delayMs);
          expect(reply.at, `${channel}: reply received before the backend bound its sockets?`).toBeGreaterThanOrEqual(boundAt);
          // `starting` was said while the request was still waiting.
          expect(s.seq, `${channel}: status starting arrived after the reply`).toBeLessThan(reply.seq);
          expect(reply.channel).toBe(channel);
        }
        expect(w.seq).toBeLessThan(shellReply.seq);
        log(`slow start (${mode}): backend bound after ${shellReply.msg.content<{ flood_kernel: { bound_at: number } }>().flood_kernel.bound_at - spawnedAt} ms; ` +
          `replies after ${shellReply.at - spawnedAt} ms (shell), ${controlReply.at - spawnedAt} ms (control)`);
        passed = true;
      } finally {
        await shutdown(client, router, 'router', !passed);
      }
      await expectNothingLeft(jenv);
    });
  }, TEST_TIMEOUT_MS);

  it('answers control while shell runs a long flood (control is never stuck behind shell or iopub)', async () => {
    await withJupyterEnv(async (jenv) => {
      const router = await startRouter(jenv);
      const client = new TestClient(router.info);
      let passed = false;
      try {
        await client.waitReady();
        const n = 100_000;
        let streams = 0;
        let msgId = '';
        const off = client.onIopub(({ msg }) => {
          if (msg.msgType === 'stream' && msg.parentHeader.msg_id === msgId) streams++;
        });
        const firstOutput = client.nextIopub((m) => m.msgType === 'stream' && m.parentHeader.msg_id === msgId);
        const exec = client.execute(`flood ${n} ${FLOOD_SIZE}`);
        msgId = exec.msgId;
        const execIdle = client.idle(exec.msgId);
        await within(firstOutput, 30_000, 'the first stream message of the flood');
        const info = client.request('control', 'kernel_info_request', {});
        const controlReply = await within(info.reply, 30_000, 'kernel_info_reply on control during the flood');
        const streamsAtControlReply = streams;
        const [execReply] = await within(Promise.all([exec.reply, execIdle]), 120_000, 'the flood to finish');
        off();
        log(`control reply after ${streamsAtControlReply} of ${n} stream messages; execute_reply after ${streams}`);
        expect(controlReply.msg.content<{ implementation: string }>().implementation).toBe('flood-kernel');
        expect(controlReply.seq, 'control kernel_info_reply arrived after the flood execute_reply').toBeLessThan(execReply.seq);
        expect(streamsAtControlReply, 'control reply waited for the whole iopub flood').toBeLessThan(n);
        expect(streams).toBe(n);
        passed = true;
      } finally {
        await shutdown(client, router, 'router', !passed);
      }
      await expectNothingLeft(jenv);
    });
  }, TEST_TIMEOUT_MS);

  it('routes replies by identity between two clients, while both see all iopub', async () => {
    await withJupyterEnv(async (jenv) => {
      const router = await startRouter(jenv);
      const a = new TestClient(router.info, `client-A-${randomUUID()}`);
      const b = new TestClient(router.info, `client-B-${randomUUID()}`);
      let passed = false;
      try {
        await a.waitReady();
        await b.waitReady();
        const seen = { a: new Set<string>(), b: new Set<string>() };
        a.onIopub(({ msg }) => { if (msg.msgType === 'stream') seen.a.add(msg.content<{ text: string }>().text); });
        b.onIopub(({ msg }) => { if (msg.msgType === 'stream') seen.b.add(msg.content<{ text: string }>().text); });
        const rounds = 20;
        const pending: { who: 'a' | 'b'; channel: string; msgId: string; reply: Promise<Received> }[] = [];
        const idles: Promise<Received>[] = [];
        // Interleaved, not awaited one by one: the router has both clients' requests in flight at once.
        for (let i = 0; i < rounds; i++) {
          for (const [who, client] of [['a', a], ['b', b]] as const) {
            const ex = client.execute(`echo ${who} ${i}`);
            idles.push(a.idle(ex.msgId), b.idle(ex.msgId));
            pending.push({ who, channel: 'shell', ...ex });
            pending.push({ who, channel: 'control', ...client.request('control', 'kernel_info_request', {}) });
            pending.push({ who, channel: 'shell', ...client.request('shell', 'kernel_info_request', {}) });
          }
        }
        const replies = await within(Promise.all(pending.map((p) => p.reply)), 30_000, 'every reply');
        await within(Promise.all(idles), 30_000, 'both clients to see idle for every execute');
        replies.forEach((r, i) => {
          const p = pending[i]!;
          expect(r.msg.parentHeader.msg_id).toBe(p.msgId);
          expect(r.channel).toBe(p.channel);
        });
        expect(a.foreign.map((r) => r.msg.msgType), "replies to B's requests that reached A").toEqual([]);
        expect(b.foreign.map((r) => r.msg.msgType), "replies to A's requests that reached B").toEqual([]);
        for (let i = 0; i < rounds; i++) {
          for (const who of ['a', 'b']) {
            expect(seen.a.has(`echo ${who} ${i}`), `client A saw the output of echo ${who} ${i}`).toBe(true);
            expect(seen.b.has(`echo ${who} ${i}`), `client B saw the output of echo ${who} ${i}`).toBe(true);
          }
        }
        passed = true;
      } finally {
        b.close();
        await shutdown(a, router, 'router', !passed);
      }
      await expectNothingLeft(jenv);
    });
  }, TEST_TIMEOUT_MS);

  it('echoes heartbeats itself while the backend is too busy to answer its own', async () => {
    await withJupyterEnv(async (jenv) => {
      const router = await startRouter(jenv);
      const client = new TestClient(router.info);
      let passed = false;
      try {
        await client.waitReady();
        const backend = await backendConnection(jenv);
        // The direct path works when the backend is idle, so silence later means "busy", not "wrong port".
        const before = await ping(backend, Buffer.from('backend-idle'), 5000);
        expect(before?.toString()).toBe('backend-idle');

        const blockMs = 8000;
        let msgId = '';
        const busy = client.nextIopub((m) => m.msgType === 'status' && m.parentHeader.msg_id === msgId && m.content<{ execution_state: string }>().execution_state === 'busy');
        const exec = client.execute(`block ${blockMs}`);
        msgId = exec.msgId;
        let replied = false;
        void exec.reply.then(() => (replied = true));
        await within(busy, 10_000, 'busy status of the blocking execute');

        // The backend's own heartbeat and the router's, side by side while the backend spins.
        const routerPings = (async () => {
          const echoes: string[] = [];
          for (let i = 0; i < 5; i++) {
            const payload = Buffer.from(`router-${i}-${randomUUID()}`);
            const echo = await ping(router.info, payload, 1000);
            echoes.push(echo?.equals(payload) ? 'ok' : echo === undefined ? 'no echo' : `wrong bytes ${echo.toString()}`);
          }
          return echoes;
        })();
        const [echoes, backendEcho] = await Promise.all([routerPings, ping(backend, Buffer.from('backend-busy'), 1500)]);
        const stillBlocked = !replied;
        expect(echoes).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
        // The backend really was unresponsive meanwhile: its own heartbeat went unanswered.
        expect(stillBlocked, `the block of ${blockMs} ms ended before the pings were done`).toBe(true);
        expect(backendEcho, 'the backend answered its heartbeat while blocked').toBeUndefined();
        const reply = await within(exec.reply, 30_000, 'execute_reply of the block');
        expect(reply.msg.content<{ status: string }>().status).toBe('ok');
        passed = true;
      } finally {
        await shutdown(client, router, 'router', !passed);
      }
      await expectNothingLeft(jenv);
    });
  }, TEST_TIMEOUT_MS);
});
