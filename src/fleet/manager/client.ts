/**
 * A connection to the fleet manager, for routers and the CLI. If no manager answers, it starts
 * one (detached) and waits for it. The connection itself is a lease: a router's attachments
 * end when it closes, which is how a router killed with SIGKILL still detaches.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FleetError, isFleetError, type FleetErrorCode } from '../../shared/errors.js';
import { startupMark } from '../../shared/startup-trace.js';
import { ensurePrivateDir } from '../paths.js';
import type { StartedManager } from './autostart.js';
import { managerLogPath, managerSocketPath, managerStartingPath } from './files.js';
import { LineReader, encodeLine } from './lines.js';
import type { HeldLock } from './lock.js';
import type { ManagerEvent, ManagerRequest } from './protocol.js';
import { parseManagerLine } from './responses.js';

type Env = Record<string, string | undefined>;

/** The longest wait between two looks for an autostarted manager's socket. */
const AUTOSTART_POLL_MAX_MS = 20;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A request as callers write it; the client numbers it. */
export type ManagerRequestBody = DistributiveOmit<ManagerRequest, 'id'>;

export interface ManagerConnectOptions {
  home: string;
  /** Start a manager when none answers (default true). */
  autostart?: boolean;
  /** Environment of an autostarted manager (and through it, of the backends). Default process.env. */
  env?: Env;
  /** How long to wait for an autostarted manager to listen. Default 10000. */
  timeoutMs?: number;
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class ManagerClient {
  /** Settles when the connection is gone, whoever closed it. */
  readonly closed: Promise<void>;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Set<(event: ManagerEvent) => void>();
  #isClosed = false;

  private constructor(
    private readonly socket: Socket,
    readonly socketPath: string,
  ) {
    const reader = new LineReader((line) => this.#onLine(line));
    socket.on('data', (chunk: Buffer) => {
      if (!reader.push(chunk)) socket.destroy();
    });
    // Errors end in 'close', where pending requests are rejected; nothing to add here.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#isClosed = true;
        const error = unavailable(`the fleet manager connection (${socketPath}) closed before it answered`, socketPath);
        for (const p of this.#pending.values()) p.reject(error);
        this.#pending.clear();
        resolve();
      });
    });
  }

  /** Connect to the manager of `home`, starting one first if allowed and needed. */
  static async connect(options: ManagerConnectOptions): Promise<ManagerClient> {
    const socketPath = managerSocketPath(options.home);
    try {
      return await ManagerClient.#open(socketPath);
    } catch (error) {
      if (options.autostart === false) {
        throw unavailable(
          `no fleet manager answers on ${socketPath} (${(error as Error).message}); start one with \`llmspell-fleet manager\` (its log: ${managerLogPath(options.home)})`,
          socketPath,
        );
      }
    }
    return ManagerClient.#autostart(options, socketPath);
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Rejects with a FleetError carrying the manager's code, message and context. */
  request<T = unknown>(body: ManagerRequestBody): Promise<T> {
    if (this.#isClosed) return Promise.reject(unavailable(`the fleet manager connection (${this.socketPath}) is closed`, this.socketPath));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.socket.write(encodeLine({ ...body, id }));
    });
  }

  /** Events the manager pushes to this connection (backend-restarted, backend-exited). */
  onEvent(listener: (event: ManagerEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.socket.destroy();
  }

  #onLine(line: string): void {
    // A line that is not one of ours is ignored: a router must never crash on its manager's output.
    const message = parseManagerLine(line);
    if (message === undefined) return;
    if ('event' in message) {
      for (const listener of this.#listeners) listener(message);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (pending === undefined) return;
    this.#pending.delete(message.id);
    if (message.ok) pending.resolve(message.result);
    else pending.reject(new FleetError(message.error.code as FleetErrorCode, message.error.message, message.error.context ?? {}));
  }

  static #open(socketPath: string): Promise<ManagerClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect(socketPath);
      const onError = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new ManagerClient(socket, socketPath));
      });
    });
  }

  /**
   * One client starts the manager (it holds manager.starting); the others only wait for the
   * socket, and take over the start if that client gives up. A started manager that exits 0
   * lost a race to another manager, which is fine; one that exits non-zero failed: say so.
   * A manager exiting because it was idle sets its socket file aside first, so a client racing
   * it lands here and starts the next one.
   */
  static async #autostart(options: ManagerConnectOptions, socketPath: string): Promise<ManagerClient> {
    // Only a client that finds no manager needs these: a router attaching to a running fleet skips them.
    const [{ startManagerProcess }, { readLogTail }] = await Promise.all([import('./autostart.js'), import('../spawn.js')]);
    const home = await ensurePrivateDir(options.home);
    const timeoutMs = options.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    let lock: HeldLock | undefined;
    let started: StartedManager | undefined;
    let exitCode: number | null | undefined;
    let last: Error | undefined;
    try {
      // A manager listens within a few hundred ms of its spawn: a long back-off here was time
      // added to every cold start (the whole of it went to waiting once it listened).
      for (let delay = 10; Date.now() < deadline; delay = Math.min(delay * 2, AUTOSTART_POLL_MAX_MS)) {
        if (started === undefined && (lock ??= await tryLock(managerStartingPath(home))) !== undefined) {
          // Whoever held the lock before us may have just finished starting one.
          const ready = await ManagerClient.#open(socketPath).catch(() => undefined);
          if (ready !== undefined) return ready;
          started = await startManagerProcess({ home, env: options.env ?? process.env });
          startupMark('manager-spawned');
          void started.exited.then((code) => (exitCode = code));
        }
        await sleep(delay);
        try {
          return await ManagerClient.#open(socketPath);
        } catch (error) {
          last = error as Error;
        }
        if (exitCode !== undefined && exitCode !== 0) break;
        // Ours found another manager and stepped aside, yet nothing answers now: that one has
        // exited meanwhile (idle), so start one again.
        if (exitCode === 0) started = exitCode = undefined;
      }
    } finally {
      await lock?.release();
    }
    const logFile = managerLogPath(home);
    const tail = await readLogTail(logFile, { lines: 10 });
    const why =
      exitCode !== undefined && exitCode !== 0
        ? `the manager it started (pid ${started?.pid}) exited with code ${exitCode}`
        : `nothing listened within ${timeoutMs} ms (${last?.message ?? 'no answer'})`;
    throw unavailable(`cannot reach the fleet manager on ${socketPath}: ${why}; see ${logFile}${tail ? `\nlast lines:\n${tail}` : ''}`, socketPath, {
      pid: started?.pid,
      exitCode,
    });
  }
}

/** The lock if nobody else holds it right now; never waits. */
async function tryLock(path: string): Promise<HeldLock | undefined> {
  const { acquireLock } = await import('./lock.js');
  try {
    return await acquireLock(path, { timeoutMs: 0 });
  } catch (error) {
    if (isFleetError(error) && error.code === 'MANAGER_UNAVAILABLE') return undefined;
    throw error;
  }
}

function unavailable(message: string, socketPath: string, extra: Record<string, unknown> = {}): FleetError {
  return new FleetError('MANAGER_UNAVAILABLE', message, { socket: socketPath, logFile: managerLogPath(dirname(socketPath)), ...extra });
}
