/**
 * Relay-test scaffolding shared by router-relay and router-load: the router started the way
 * Jupyter starts a kernel (with the flood-kernel fixture as its backend), the fixture run
 * directly for comparison, and the wire client wrapped to record arrival order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { JupyterClient } from '../../src/wire/client.js';
import type { WireMessage } from '../../src/wire/codec.js';
import { parseConnectionInfo, type ConnectionInfo } from '../../src/wire/connection-file.js';
import { waitForReady } from '../../src/wire/ready.js';
import { REPO_ROOT, withJupyterEnv, type JupyterEnv } from './e2e.js';
import { CLI, stopFleetManager, writeClientConnectionFile } from './fleet-env.js';
import { waitForNoProcesses } from './processes.js';
export const FLOOD_KERNEL = join(REPO_ROOT, 'test', 'fixtures', 'flood-kernel.mjs');

/** Rejects after `ms` with a message naming what did not happen. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------------------------------------
// Processes: the router as Jupyter runs it, and the fixture run directly.

export interface Proc {
  child: ChildProcess;
  info: ConnectionInfo;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

export function track(child: ChildProcess, info: ConnectionInfo): Proc {
  const err: Buffer[] = [];
  child.stderr?.on('data', (b: Buffer) => err.push(b));
  child.stdout?.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, info, exit, stderr: () => Buffer.concat(err).toString('utf8') };
}

/** fleet.toml with one runtime, "flood", running the fixture kernel. */
export async function writeFloodConfig(jenv: JupyterEnv, extraToml: string[] = []): Promise<string> {
  const config = join(jenv.dir, 'fleet.toml');
  await writeFile(
    config,
    [
      'default_runtime = "flood"',
      'default_provider = "none"',
      // Fleet mode: the backend stops as soon as its last router leaves.
      'linger_seconds = 0',
      ...extraToml,
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
export type Mode = 'fleet' | 'local';

export async function startRouter(jenv: JupyterEnv, options: { mode?: Mode; env?: Record<string, string>; toml?: string[] } = {}): Promise<Proc> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  const config = await writeFloodConfig(jenv, options.toml);
  const { file, info } = await writeClientConnectionFile(jenv, 'router');
  const env: NodeJS.ProcessEnv = { ...jenv.env, LLMSPELL_FLEET_CONFIG: config, JPY_PARENT_PID: String(process.pid), ...options.env };
  if (options.mode === 'local') env.LLMSPELL_FLEET_MODE = 'local';
  else delete env.LLMSPELL_FLEET_MODE;
  const child = spawn(process.execPath, [CLI, 'router', '--connection-file', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return track(child, info);
}

/** Every process the test started is gone (the fleet manager, if one was started, is stopped first). */
export async function expectNothingLeft(jenv: JupyterEnv): Promise<void> {
  await stopFleetManager(jenv.homeDir);
  await waitForNoProcesses(jenv.dir, 60_000);
}

/** The fixture without a router, as a client would see it if it launched the kernel itself. */
export async function startDirect(jenv: JupyterEnv): Promise<Proc> {
  const { file, info } = await writeClientConnectionFile(jenv, 'direct');
  const child = spawn(process.execPath, [FLOOD_KERNEL, file], { env: jenv.env, stdio: ['ignore', 'pipe', 'pipe'] });
  return track(child, info);
}

/** The router's own log, for assertion messages. */
export function routerLog(jenv: JupyterEnv, proc: Proc): string {
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
export async function shutdown(client: TestClient, proc: Proc, what: string, afterFailure = false): Promise<void> {
  if (afterFailure) {
    await shutdown(client, proc, what).catch((error: unknown) => console.error(`[relay] ${what} shutdown after a failure: ${String(error)}`));
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
// A client with all four channels (the wire client), recording the order in which messages arrive.

export type RequestChannel = 'shell' | 'control' | 'stdin';

export interface Received {
  channel: RequestChannel | 'iopub';
  msg: WireMessage;
  /** Arrival order across every channel of this client. */
  seq: number;
  at: number;
}

export class TestClient {
  readonly client: JupyterClient;
  /** Replies whose parent is not a request of this client: identity routing gone wrong. */
  readonly foreign: Received[] = [];
  #seq = 0;
  /** Arrival stamps, given as each message is accepted (before any handler or reply sees it). */
  readonly #arrivals = new WeakMap<WireMessage, Received>();

  constructor(readonly info: ConnectionInfo, readonly identity = `test-client-${randomUUID()}`) {
    this.client = new JupyterClient({
      connection: info,
      routingId: identity,
      onReceive: (channel, msg) => this.#arrivals.set(msg, { channel, msg, seq: ++this.#seq, at: Date.now() }),
      onUnmatched: (_, msg) => {
        const parent = msg.parentHeader.msg_id;
        if (parent === undefined || !this.client.sentHere(parent)) this.foreign.push(this.#received(msg));
      },
    });
  }

  /** Messages that failed verification with the client's key. */
  get rejected(): number {
    return this.client.rejected;
  }

  request(channel: 'shell' | 'control', msgType: string, content: object): { msgId: string; reply: Promise<Received> } {
    const { msgId, reply } = this.client.start(msgType, content, { channel });
    return { msgId, reply: reply.then((msg) => this.#received(msg)) };
  }

  execute(code: string): { msgId: string; reply: Promise<Received> } {
    return this.request('shell', 'execute_request', { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true });
  }

  onIopub(handler: (r: Received) => void): () => void {
    return this.client.onIopub((msg) => handler(this.#received(msg)));
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
    return (await waitForReady(this.client, { timeoutMs })).kernelInfo;
  }

  close(): void {
    this.client.close();
  }

  #received(msg: WireMessage): Received {
    const stamped = this.#arrivals.get(msg);
    if (stamped === undefined) throw new Error(`TestClient: ${msg.msgType} was delivered without an arrival stamp`);
    return stamped;
  }
}

// ---------------------------------------------------------------------------------------------

export interface FloodResult {
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
export async function flood(client: TestClient, n: number, size: number, timeoutMs = 120_000): Promise<FloodResult> {
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

export async function backendConnection(jenv: JupyterEnv): Promise<ConnectionInfo> {
  const dir = join(jenv.homeDir, 'backends');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  expect(files, `backend connection files in ${dir}`).toHaveLength(1);
  const file = join(dir, files[0]!);
  return parseConnectionInfo(await readFile(file, 'utf8'), file);
}

/** The assertions every flood test makes: all `n` arrived, in order, intact, `idle` after the last. */
export function expectFloodComplete(r: FloodResult, n: number, client: TestClient, why: string): void {
  expect(r.received, why).toBe(n);
  expect(r.outOfOrder, why).toBe(0);
  expect(r.badSize, why).toBe(0);
  expect(r.reply.msg.content<{ status: string }>().status, why).toBe('ok');
  // The idle that ends the request follows the last output: same channel, so ordered. The
  // execute_reply travels on shell, another socket, and may overtake iopub even without a
  // router, which is why clients wait for idle; so its position is not asserted.
  expect(r.idleSeq, why).toBeGreaterThan(r.lastStreamSeq);
  expect(client.rejected, why).toBe(0);
}

/** Runs `bytes size` and checks that the display_data's one buffer arrived whole (sha256). */
export async function expectBytesRelayed(client: TestClient, size: number, timeoutMs: number): Promise<void> {
  let msgId = '';
  const display = client.nextIopub((m) => m.msgType === 'display_data' && m.parentHeader.msg_id === msgId);
  const r = client.execute(`bytes ${size}`);
  msgId = r.msgId;
  const [shown, reply] = await within(Promise.all([display, r.reply]), timeoutMs, 'display_data and execute_reply');
  expect(reply.msg.content<{ status: string }>().status).toBe('ok');
  const text = shown.msg.content<{ data: Record<string, string> }>().data['text/plain'];
  const m = /^(\d+) bytes sha256 ([0-9a-f]{64})$/.exec(text ?? '');
  expect(m, `display_data text/plain: ${text}`).not.toBeNull();
  expect(Number(m![1])).toBe(size);
  expect(shown.msg.buffers).toHaveLength(1);
  const buffer = shown.msg.buffers[0]!;
  expect(buffer.length).toBe(size);
  expect(createHash('sha256').update(buffer).digest('hex')).toBe(m![2]);
}

/**
 * One relay test's scaffolding: a fresh Jupyter env, the router started as Jupyter starts it, a
 * client on it (ready first unless `ready: false`), then a clean shutdown through that client
 * and a check that no process is left.
 */
export async function withRoutedClient(
  options: { mode?: Mode; env?: Record<string, string>; toml?: string[]; ready?: boolean },
  body: (context: { jenv: JupyterEnv; router: Proc; client: TestClient; kernelInfo?: WireMessage }) => Promise<void>,
): Promise<void> {
  await withJupyterEnv(async (jenv) => {
    const router = await startRouter(jenv, options);
    const client = new TestClient(router.info);
    let passed = false;
    try {
      const kernelInfo = options.ready === false ? undefined : await client.waitReady();
      await body({ jenv, router, client, kernelInfo });
      passed = true;
    } finally {
      await shutdown(client, router, 'router', !passed);
    }
    await expectNothingLeft(jenv);
  });
}
