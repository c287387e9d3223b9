/**
 * The router host: one process per fleet home that runs a router session for each kernel stub
 * connecting on `<home>/router-host.sock`. One host per home: it holds router-host.lock (the
 * manager's lock mechanism: pid and start time, taken over when its holder is gone) for as long
 * as it listens, and unlinks a stale socket only while holding it. With no session for
 * `[router] host_linger_seconds` it stops listening and exits.
 */
import { rename, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { acquireLock, type HeldLock } from '../../fleet/manager/lock.js';
import { listen } from '../../fleet/manager/manager-socket.js';
import { isFleetError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import type { Install } from './admission.js';
import { routerHostLockPath, routerHostSocketPath } from './files.js';
import { StubConnection } from './stub-connection.js';

export interface RouterHostOptions {
  home: string;
  /** The host's own node and entry script (real paths): stubs of another install are sent back. */
  install: Install;
  /** How long the host stays with no session; 0 = it exits when the last one ends. */
  lingerMs: number;
  /**
   * Before its first session the host waits at least this long: the stub that started it
   * connects within its own 10 s, and a linger of 0 must not end the host before it does.
   */
  firstSessionMs?: number;
  /** How long a host waits for another one that holds the lock but does not answer (starting or exiting). Default 10000. */
  lockWaitMs?: number;
  logger: Logger;
}

export type HostStart = { status: 'started'; host: RouterHost } | { status: 'already-running' };

const FIRST_SESSION_MS = 10_000;
/** Long enough for the event loop to poll the listening socket at least once. */
const DRAIN_MS = 50;

export class RouterHost {
  readonly socketPath: string;
  /** Settles once the host has stopped listening and every session has ended. */
  readonly closed: Promise<void>;
  readonly #connections = new Set<StubConnection>();
  readonly #log: Logger;
  /** A session has run here: the host lingers for the next one. */
  #served = false;
  /** A stub has said hello: the one that started the host (if any) has had its turn (a host's probe of the socket is no stub). */
  #contacted = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #closing = false;
  #markClosed: () => void = () => undefined;

  private constructor(
    private readonly server: Server,
    private readonly lock: HeldLock,
    private readonly options: RouterHostOptions,
  ) {
    this.socketPath = routerHostSocketPath(options.home);
    this.#log = options.logger;
    this.closed = new Promise((resolve) => (this.#markClosed = resolve));
    server.on('connection', (socket) => {
      if (this.#closing) return void socket.destroy();
      this.#clearIdle();
      const connection: StubConnection = new StubConnection({
        socket,
        install: options.install,
        logger: this.#log,
        onHello: () => {
          this.#contacted = true;
        },
        onSession: () => {
          this.#served = true;
        },
        onClosed: () => {
          this.#connections.delete(connection);
          this.#afterChange();
        },
      });
      this.#connections.add(connection);
    });
  }

  /** Takes the home's lock and listens, unless another host serves the home (then it starts nothing). */
  static async start(options: RouterHostOptions): Promise<HostStart> {
    const socketPath = routerHostSocketPath(options.home);
    const lock = await takeLock(options, socketPath);
    if (lock === undefined) return { status: 'already-running' };
    const server = createServer();
    const host = new RouterHost(server, lock, options);
    try {
      // Nothing answers and we hold the lock: whatever socket file is there is stale.
      await rm(socketPath, { force: true });
      await listen(server, socketPath);
    } catch (error) {
      await lock.release();
      throw error;
    }
    host.#log.info({ socket: socketPath, host_linger_seconds: options.lingerMs / 1000 }, 'router host listening');
    host.#afterChange();
    return { status: 'started', host };
  }

  /** Stop listening (the socket file goes), end every session (each stub gets its exit), then settle `closed`. Idempotent. */
  close(reason: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#clearIdle();
    this.#log.info({ reason, sessions: this.#connections.size }, 'router host stopping');
    // close() unlinks the socket file at once; the lock goes next, so a new host can take over
    // while the sessions here finish.
    this.server.close();
    void this.lock.release().catch((error: unknown) => this.#log.warn({ err: String(error) }, 'could not remove the router host lock')).finally(() => {
      for (const connection of this.#connections) connection.stop(`router host stopping (${reason})`);
      this.#afterChange();
    });
  }

  #afterChange(): void {
    if (this.#connections.size > 0) return;
    if (this.#closing) return this.#markClosed();
    this.#clearIdle();
    const wait = idleWaitMs({ served: this.#served, contacted: this.#contacted, lingerMs: this.options.lingerMs, firstSessionMs: this.options.firstSessionMs ?? FIRST_SESSION_MS });
    this.#idleTimer = setTimeout(() => void this.#idleExit(wait), wait);
  }

  /**
   * As the manager's idle exit (fleet/manager/idle-exit.ts): a stub that connects while the host
   * decides must be served or find no socket (and start a host), never be dropped unanswered.
   * The socket file is set aside (new stubs get ENOENT), whoever connected before is accepted by
   * the next poll, and only then the host closes; one that got in puts the file back. The lock,
   * held all along, keeps a new host from binding meanwhile.
   */
  async #idleExit(waitedMs: number): Promise<void> {
    if (this.#closing || this.#connections.size > 0) return;
    const aside = `${this.socketPath}.${process.pid}.idle`;
    try {
      await rename(this.socketPath, aside);
    } catch {
      return this.close('its socket file is gone');
    }
    await sleep(DRAIN_MS);
    await new Promise((resolve) => setImmediate(resolve));
    if (this.#connections.size > 0 && (await rename(aside, this.socketPath).then(() => true, () => false))) {
      this.#log.debug('a kernel stub connected while the router host was about to exit; serving it');
      return;
    }
    this.close(`no session for ${waitedMs / 1000} s`);
    await rm(aside, { force: true });
  }

  #clearIdle(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
  }
}

/**
 * The home's lock, or undefined when another host serves the home. A holder that does not
 * answer is starting or exiting: waited for, up to lockWaitMs.
 */
async function takeLock(options: RouterHostOptions, socketPath: string): Promise<HeldLock | undefined> {
  const deadline = Date.now() + (options.lockWaitMs ?? 10_000);
  for (;;) {
    try {
      return await acquireLock(routerHostLockPath(options.home), { timeoutMs: 0 });
    } catch (error) {
      // MANAGER_UNAVAILABLE is the lock's "held by a live process"; anything else is a real failure.
      if (!isFleetError(error) || error.code !== 'MANAGER_UNAVAILABLE') throw error;
    }
    if (await answers(socketPath)) return undefined;
    if (Date.now() >= deadline) {
      options.logger.warn({ lock: routerHostLockPath(options.home) }, 'another router host holds the lock but does not answer; leaving the home to it');
      return undefined;
    }
    await sleep(50);
  }
}

/** Whether something accepts connections on the socket (a host that serves). */
function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Pure: how long a host with no connection waits before it exits. After a session: the linger.
 * Before any stub connected: at least firstSessionMs, for the stub that started it. When stubs
 * came but were all sent back (another install, --local): at once, as nothing here is of use.
 */
export function idleWaitMs(state: { served: boolean; contacted: boolean; lingerMs: number; firstSessionMs: number }): number {
  if (state.served) return state.lingerMs;
  if (state.contacted) return 0;
  return Math.max(state.lingerMs, state.firstSessionMs);
}
