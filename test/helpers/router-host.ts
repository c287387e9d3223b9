/**
 * The router host in tests: start one, speak the kernel stub's side of its protocol over
 * node:net (our own protocol; the real stub is native/kernel-stub.c), and stop a home's host
 * so that no test leaves one behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createConnection, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { HostMessage, StubHello } from '../../src/cli/router-host/protocol.js';
import { LineReader } from '../../src/fleet/manager/lines.js';
import { CLI } from './fleet-env.js';
import { isRunning, processesReferencing } from './processes.js';

export const hostSocket = (homeDir: string): string => join(homeDir, 'router-host.sock');

export interface StartedHost {
  child: ChildProcess;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** `llmspell-fleet router-host` with `env`, as the stub starts it (node, the entry, "router-host"). */
export function startRouterHost(env: NodeJS.ProcessEnv, entry = CLI): StartedHost {
  const child = spawn(process.execPath, [entry, 'router-host'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const err: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exit, stderr: () => Buffer.concat(err).toString('utf8') };
}

/**
 * Stops every router host of `homeDir` (found by its argv and the home in its environment)
 * with SIGTERM, which ends each session first; SIGKILL after `timeoutMs`.
 */
export async function stopRouterHost(homeDir: string, timeoutMs = 20_000): Promise<void> {
  const hosts = (await processesReferencing(homeDir)).filter((p) => / router-host$/.test(p.cmdline));
  for (const { pid } of hosts) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone meanwhile
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const { pid } of hosts) {
    while ((await isRunning(pid)) && Date.now() < deadline) await delay(50);
    if (await isRunning(pid)) process.kill(pid, 'SIGKILL');
  }
}

/** The kernel stub's first line, as the host parses it. */
export type Hello = StubHello;

export function helloFor(options: { pid: number; cwd: string; env: NodeJS.ProcessEnv; routerArgs: string[]; entry?: string }): Hello {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(options.env)) if (v !== undefined) env[k] = v;
  return { v: 1, pid: options.pid, ppid: process.pid, cwd: options.cwd, argv: [process.execPath, options.entry ?? CLI, 'router', ...options.routerArgs], env };
}

/** The stub's side of one connection: what the host said, line by line. */
export class StubSide {
  readonly messages: HostMessage[] = [];
  /** Settles when the host closes the connection. */
  readonly closed: Promise<void>;
  #waiters = new Set<() => void>();
  #isClosed = false;

  private constructor(readonly socket: Socket) {
    // The product's own line splitting (the manager's and the host's), not a copy of it.
    const lines = new LineReader((line) => this.messages.push(JSON.parse(line) as HostMessage));
    socket.on('data', (chunk: Buffer) => {
      lines.push(chunk);
      this.#wake();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => {
      this.#isClosed = true;
      this.#wake();
    });
    socket.on('error', () => undefined);
  }

  /**
   * Connects as the stub does (retrying while the socket is missing or refuses, up to
   * `timeoutMs`: a host just started may not listen yet) and sends `hello`.
   */
  static async connect(socketPath: string, hello: Hello | string, timeoutMs = 15_000): Promise<StubSide> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const socket = await new Promise<Socket | undefined>((resolve, reject) => {
        const s = createConnection(socketPath);
        s.once('connect', () => resolve(s));
        s.once('error', (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' || error.code === 'ECONNREFUSED' ? resolve(undefined) : reject(error)));
      });
      if (socket !== undefined) {
        const side = new StubSide(socket);
        socket.write(typeof hello === 'string' ? hello : `${JSON.stringify(hello)}\n`);
        return side;
      }
      if (Date.now() >= deadline) throw new Error(`no router host answers on ${socketPath} after ${timeoutMs} ms`);
      await delay(10);
    }
  }

  #wake(): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  signal(name: 'SIGTERM' | 'SIGHUP' | 'SIGINT'): void {
    this.socket.write(`${JSON.stringify({ signal: name })}\n`);
  }

  /** The first message that `match` takes, waiting up to `timeoutMs`. */
  async next<T extends HostMessage>(match: (m: HostMessage) => m is T, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(match);
      if (found !== undefined) return found;
      if (this.#isClosed) throw new Error(`the host closed the connection; it said: ${JSON.stringify(this.messages)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; the host said: ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.add(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The exit code the host sent. */
  exit(timeoutMs?: number): Promise<number> {
    return this.next((m): m is { exit: number } => 'exit' in m, timeoutMs).then((m) => m.exit);
  }

  listening(timeoutMs?: number): Promise<unknown> {
    return this.next((m): m is { listening: true } => 'listening' in m, timeoutMs);
  }

  /** What the stub's stderr would hold. */
  stderr(): string {
    return this.messages.map((m) => ('stderr' in m ? m.stderr : '')).join('');
  }

  /** EOF, as when the kernel process is killed. */
  end(): void {
    this.socket.end();
  }
}

/**
 * A process standing for the kernel process (the stub) whose pid a session runs under: the
 * manager checks that a router's pid runs. It carries `env`, so leftover checks find it.
 */
export function kernelProcess(env: NodeJS.ProcessEnv): { pid: number; stop(): Promise<void> } {
  const child = spawn(process.execPath, ['-e', 'process.stdin.resume(); process.stdin.on("end", () => process.exit(0))'], { env, stdio: ['pipe', 'ignore', 'ignore'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    pid: child.pid!,
    stop: async () => {
      child.stdin!.end();
      await exited;
    },
  };
}
