/**
 * Starting test/fixtures/llmspell-double.mjs and talking to it like the client that recorded
 * test/fixtures/llmspell-traces: DEALERs for shell/control/stdin, a SUB on iopub, a REQ on hb.
 * Everything that happens (a message, a stderr line, the exit) is an event tests can wait on.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { waitForConnectionFile } from '../../src/fleet/wait-connection-file.js';
import { endpoint, type ConnectionInfo } from '../../src/wire/connection-file.js';
import { REPO_ROOT } from './wire.js';

export const DOUBLE = join(REPO_ROOT, 'test/fixtures/llmspell-double.mjs');

/**
 * `<dir>/bin/llmspell`, a script that runs the double, as a user's installed llmspell would be
 * found: returns the bin dir, for the front of PATH.
 */
export async function llmspellDoubleBin(dir: string): Promise<string> {
  const bin = join(dir, 'bin');
  await mkdir(bin);
  const script = join(bin, 'llmspell');
  await writeFile(script, `#!/bin/sh\nexec "${process.execPath}" "${DOUBLE}" "$@"\n`);
  await chmod(script, 0o755);
  return bin;
}
const WAIT_MS = 20_000;

/** Waiters re-checked on every event; the timeout only bounds a failing test. */
export class Events {
  readonly #waiters = new Set<() => void>();

  notify(): void {
    for (const attempt of [...this.#waiters]) attempt();
  }

  until<T>(what: string, check: () => T | undefined, timeoutMs = WAIT_MS): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(attempt);
      };
      const attempt = (): void => {
        const value = check();
        if (value === undefined) return;
        done();
        resolve(value);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`waited ${timeoutMs} ms for ${what} in vain`));
      }, timeoutMs);
      this.#waiters.add(attempt);
      attempt();
    });
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class DoubleKernel {
  readonly stderrLines: string[] = [];
  stdout = '';
  exit: Exit | undefined;

  private constructor(
    readonly events: Events,
    readonly pid: number,
    readonly connectionFile: string,
    readonly closed: Promise<Exit>,
    readonly info: ConnectionInfo,
  ) {}

  /** Starts the double with LLMSPELL_DOUBLE_ANNOUNCE=1 and waits for its connection file. */
  static async start(connectionFile: string, env: NodeJS.ProcessEnv = {}): Promise<DoubleKernel> {
    const events = new Events();
    const child = spawn(process.execPath, [DOUBLE, 'kernel', 'start', '--port', '0', '--connection-file', connectionFile], {
      env: { ...process.env, LLMSPELL_DOUBLE_ANNOUNCE: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let kernel: DoubleKernel | undefined;
    let stdout = '';
    let stderr = '';
    const pendingLines: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (kernel) kernel.stdout = stdout;
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const lines = stderr.split('\n');
      stderr = lines.pop() ?? '';
      (kernel?.stderrLines ?? pendingLines).push(...lines);
      events.notify();
    });
    let exit: Exit | undefined;
    const closed = once(child, 'close').then(([code, signal]) => {
      exit = { code: code as number | null, signal: signal as NodeJS.Signals | null };
      if (kernel) kernel.exit = exit;
      events.notify();
      return exit;
    });
    const gone = new AbortController();
    void closed.then(() => gone.abort(new Error(`the double exited (${JSON.stringify(exit)}) before writing ${connectionFile}`)));
    try {
      const info = await waitForConnectionFile(connectionFile, { signal: AbortSignal.any([gone.signal, AbortSignal.timeout(WAIT_MS)]) });
      kernel = new DoubleKernel(events, child.pid!, connectionFile, closed, info);
    } catch (error) {
      child.kill('SIGKILL');
      await closed;
      throw error;
    }
    kernel.stderrLines.push(...pendingLines);
    kernel.stdout = stdout;
    kernel.exit = exit;
    return kernel;
  }

  /** Resolves once a stderr line contains `text`. */
  stderrLine(text: string): Promise<string> {
    return this.events.until(`"${text}" on the double's stderr`, () => {
      if (this.exit) throw new Error(`the double exited (${JSON.stringify(this.exit)}) while a test waited for "${text}"`);
      return this.stderrLines.find((line) => line.includes(text));
    });
  }

  /** Resolves with how the process ended (after its stdout and stderr closed). */
  exited(): Promise<Exit> {
    return this.events.until('the double to exit', () => this.exit);
  }

  async stop(): Promise<Exit> {
    if (!this.exit) process.kill(this.pid, 'SIGKILL');
    return this.closed;
  }
}

export type Channel = 'shell' | 'control' | 'stdin' | 'iopub';

export interface Received {
  channel: Channel;
  frames: Buffer[];
  /** Date.now() when it arrived */
  at: number;
}

export interface Echo {
  frames: Buffer[];
  at: number;
}

/** A client with one routing id on all three DEALERs, as jupyter_client connects. */
export class TraceClient {
  readonly received: Received[] = [];
  readonly #dealers: Record<Exclude<Channel, 'iopub'>, zmq.Dealer>;
  readonly #iopub = new zmq.Subscriber({ linger: 0 });
  readonly #hb = new zmq.Request({ linger: 0 });

  private constructor(
    readonly events: Events,
    routingId: string,
  ) {
    const dealer = (): zmq.Dealer => new zmq.Dealer({ linger: 0, routingId });
    this.#dealers = { shell: dealer(), control: dealer(), stdin: dealer() };
  }

  static async connect(info: ConnectionInfo, routingId: string, events: Events): Promise<TraceClient> {
    const client = new TraceClient(events, routingId);
    // The subscription goes out right after the ZMTP handshake; the replay's first requests make
    // round trips through the same publisher process after that, so its first burst is not lost.
    let subscribed = false;
    client.#iopub.events.on('handshake', () => {
      subscribed = true;
      events.notify();
    });
    client.#iopub.subscribe();
    client.#iopub.connect(endpoint(info, 'iopub'));
    for (const [channel, socket] of Object.entries(client.#dealers)) socket.connect(endpoint(info, channel as Channel));
    client.#hb.connect(endpoint(info, 'hb'));
    for (const [channel, socket] of [...Object.entries(client.#dealers), ['iopub', client.#iopub] as const]) {
      void client.#read(channel as Channel, socket);
    }
    await events.until('the iopub handshake', () => (subscribed ? true : undefined));
    return client;
  }

  async #read(channel: Channel, socket: zmq.Dealer | zmq.Subscriber): Promise<void> {
    for await (const frames of socket) {
      this.received.push({ channel, frames, at: Date.now() });
      this.events.notify();
    }
  }

  send(channel: Exclude<Channel, 'iopub'>, frames: Buffer[]): Promise<void> {
    return this.#dealers[channel].send(frames);
  }

  /** One heartbeat round trip; resolves with the echo and when it arrived. */
  async ping(payload = 'ping'): Promise<Echo> {
    await this.#hb.send(payload);
    const frames = await this.#hb.receive();
    return { frames, at: Date.now() };
  }

  /** Resolves once at least `count` messages have arrived in all. */
  receivedAtLeast(count: number): Promise<void> {
    return this.events.until(`${count} messages from the double (got ${this.received.length})`, () =>
      this.received.length >= count ? true : undefined,
    ).then(() => undefined);
  }

  close(): void {
    for (const socket of [...Object.values(this.#dealers), this.#iopub, this.#hb]) socket.close();
  }
}
