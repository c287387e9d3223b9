/**
 * The manager daemon's socket: `<home>/manager.sock`, newline-delimited JSON (protocol.ts),
 * one instance per home. Each connection that acquires or attaches holds a lease: when it
 * closes, its routers are detached from every backend.
 *
 * Stopping: close() stops listening and leaves the backends running (a restarted manager
 * adopts them); the `shutdown` op stops every backend first; with nothing to hold it for
 * manager_idle_seconds, the manager closes itself (idle-exit.ts).
 */
import { rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { isFleetError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { startupMark, writeStartupTrace } from '../../shared/startup-trace.js';
import { ensurePrivateDir } from '../paths.js';
import type { FleetManager } from './fleet.js';
import { managerLockPath, managerSocketPath } from './files.js';
import { IdleExit } from './idle-exit.js';
import { LineReader, encodeLine } from './lines.js';
import { listen, runningManager } from './manager-socket.js';
import { acquireLock } from './lock.js';
import type { HttpConfig } from '../types.js';
import type { ManagerHttp } from './http/http-server.js';
import { errorBody, runOperation, type OperationContext } from './operations.js';
import { CpuPercent } from './cpu-percent.js';
import { HostCpu } from './host-usage.js';
import { FamilySampler, type UsageSamplers } from './backend-usage.js';
import type { ManagerEvent, ManagerRequest, ManagerResponse } from './protocol.js';
import { parseRequest } from './requests.js';

export interface ManagerServerOptions {
  home: string;
  fleet: FleetManager;
  logger?: Logger;
  /** How often the idle clock is read (manager_idle_seconds comes from the config). Default 1000. */
  idleCheckMs?: number;
  /** [http] from fleet.toml; no HTTP API when left out or not enabled. */
  http?: HttpConfig;
}

/** How long the HTTP API waits for a reason to load sooner (see #httpWanted). */
const HTTP_DEFER_MS = 300;

/** What a router asks of the manager: served as soon as the backends are adopted, without waiting for the HTTP API. */
const ROUTER_OPS: ReadonlySet<ManagerRequest['op']> = new Set(['acquire', 'attach', 'release', 'take-output', 'execution-state']);

export type ServerStart = { status: 'started'; server: ManagerServer } | { status: 'already-running'; pid: number | undefined };

export class ManagerServer {
  readonly socketPath: string;
  /** Settles once the server has closed (close(), or after a `shutdown` op). */
  readonly closed: Promise<void>;
  readonly startedAt = Date.now();
  readonly #connections = new Map<number, Socket>();
  /** CPU % between lists and usage requests, shared by the socket and HTTP (one sampler per manager). */
  readonly #cpu = new CpuPercent();
  /**
   * The family measure list, /metrics and usage_reply share (one reading per tick), and the
   * host's CPU % between usage requests, like psutil.cpu_percent() in ipykernel.
   */
  readonly #usage: UsageSamplers = { cpu: this.#cpu, host: new HostCpu(), families: new FamilySampler() };
  readonly #log: Logger;
  readonly #idle: IdleExit;
  #nextConn = 1;
  #http: ManagerHttp | undefined;
  /**
   * Starts the HTTP API now, while the server waits to (see #httpWanted). Before that wait
   * begins (backends still being adopted) it only notes the wish: a ping that came then waits
   * for `ready`, so the wait must not then hold the API back for it (that was a deadlock).
   */
  #wantHttp: () => void = () => {
    this.#httpAskedEarly = true;
  };
  #httpAskedEarly = false;
  /** Requests being answered, including those whose client has gone. */
  #requests = 0;
  #closing: Promise<void> | undefined;
  #markClosed: () => void = () => undefined;
  #markAdopted: () => void = () => undefined;
  #markReady: () => void = () => undefined;
  #markFailed: (error: unknown) => void = () => undefined;
  /** Settles once the registry's backends are adopted: a router's requests wait for this alone. */
  readonly #adopted: Promise<void>;
  /** Settles once the HTTP API listens too (or failed to); other requests wait for it, so a ping answered means http.json is there. */
  private readonly ready: Promise<void>;

  private constructor(
    private readonly server: Server,
    private readonly options: ManagerServerOptions,
  ) {
    this.socketPath = managerSocketPath(options.home);
    this.#log = (options.logger ?? silentLogger()).child({ component: 'manager-server' });
    this.closed = new Promise((resolve) => (this.#markClosed = resolve));
    let failAdoption: (error: unknown) => void = () => undefined;
    this.#adopted = new Promise((resolve, reject) => {
      this.#markAdopted = resolve;
      failAdoption = reject;
    });
    this.ready = new Promise((resolve, reject) => {
      this.#markReady = resolve;
      this.#markFailed = (error) => {
        failAdoption(error);
        reject(error);
      };
    });
    // Requests wait on these; a failed adoption is reported by start(), not as unhandled.
    this.#adopted.catch(() => undefined);
    this.ready.catch(() => undefined);
    this.#idle = new IdleExit({
      socketPath: this.socketPath,
      lockPath: managerLockPath(options.home),
      holds: () => ({ ...options.fleet.holds(), connections: this.#connections.size, requests: this.#requests, http: this.#http?.inFlight ?? 0 }),
      idleMs: () => options.fleet.idleMs(),
      // Spares never hold the manager (fleet.ts holds()); they go when it goes idle.
      close: async () => {
        await options.fleet.retireSpares('manager idle exit');
        await this.close();
      },
      logger: this.#log,
      checkEveryMs: options.idleCheckMs,
    });
    // Before listen: a connection accepted without a handler would never be read.
    server.on('connection', (socket) => this.#accept(socket));
    options.fleet.onEvent((event, to) => {
      for (const conn of new Set(to.map((r) => r.conn))) {
        const socket = conn === undefined ? undefined : this.#connections.get(conn);
        if (socket !== undefined && !socket.destroyed) socket.write(encodeLine(event));
      }
    });
  }

  /**
   * Bind the socket unless another manager answers on it, then adopt the registry's backends
   * (requests wait for that). The check-and-bind runs under manager.lock, so two managers
   * started together never both unlink a stale socket and bind.
   */
  static async start(options: ManagerServerOptions): Promise<ServerStart> {
    const home = await ensurePrivateDir(options.home);
    const self = new ManagerServer(createServer(), { ...options, home });
    const lock = await acquireLock(managerLockPath(home));
    try {
      const other = await runningManager(home);
      if (other !== undefined) return { status: 'already-running', pid: other.pid };
      // Nothing answers: whatever socket file is there is stale (ECONNREFUSED).
      await rm(self.socketPath, { force: true });
      await listen(self.server, self.socketPath);
      startupMark('manager-listening');
    } finally {
      await lock.release();
    }
    try {
      const adoption = await options.fleet.start();
      self.#log.info({ ...adoption, socket: self.socketPath, manager_idle_seconds: options.fleet.idleMs() / 1000 }, 'fleet manager ready');
      self.#markAdopted();
      startupMark('manager-ready');
      // Loading prom-client and the API costs tens of ms of CPU, which a cold start's first
      // acquire used to wait for, and then its backend's start competed with: it loads once
      // that acquire is answered (or anything but a router's request comes, or nothing is
      // asked for a moment). Before `ready`: once a ping is answered, http.json is there (or
      // the log says why not).
      if (options.http?.enabled === true) {
        await self.#httpWanted();
        await self.#startHttp(loadHttpModules());
      }
      self.#markReady();
      self.#idle.start();
    } catch (error) {
      self.#markFailed(error);
      await self.close();
      throw error;
    }
    return { status: 'started', server: self };
  }

  /** Settles once a router's request is answered, a request that waits for `ready` comes, or HTTP_DEFER_MS pass with no request in flight. */
  #httpWanted(): Promise<void> {
    if (this.#httpAskedEarly) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const done = (): void => {
        clearTimeout(timer);
        this.#wantHttp = () => undefined;
        resolve();
      };
      const check = (): void => {
        if (this.#requests === 0) done();
        else timer = setTimeout(check, HTTP_DEFER_MS);
      };
      timer = setTimeout(check, HTTP_DEFER_MS);
      this.#wantHttp = done;
    });
  }

  /** The HTTP API's base URL, when it listens. */
  get httpUrl(): string | undefined {
    return this.#http?.url;
  }

  /** A port in use must not cost the socket's users their manager: the API is off, said in the log. */
  async #startHttp(modules: ReturnType<typeof loadHttpModules>): Promise<void> {
    const config = this.options.http;
    if (config?.enabled !== true) return;
    try {
      const { ManagerHttp, createFleetMetrics } = await modules;
      const metrics = createFleetMetrics(this.options.fleet, this.#usage.families);
      this.#http = await ManagerHttp.start({ context: this.#context, config, logger: this.#log, metrics, onActivity: () => this.#idle.touch() });
    } catch (error) {
      this.#log.error({ listen: config.listen, err: String(error) }, 'the HTTP API cannot start; the manager runs without it (see [http] in fleet.toml)');
    }
  }

  /** True while an idle exit has set the socket file aside (it is not gone for good). */
  get socketSetAside(): boolean {
    return this.#idle.socketSetAside;
  }

  /** Stop listening and drop every connection; backends keep running. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#idle.stop();
      await this.#http?.close();
      await new Promise<void>((resolve) => {
        this.server.close(() => resolve());
        // end() flushes what was written (the answer to `shutdown`); destroy() bounds the wait.
        for (const socket of this.#connections.values()) {
          socket.end();
          setTimeout(() => socket.destroy(), 1000).unref();
        }
      });
      await this.options.fleet.close();
      // An idle exit closes us from inside its attempt: closed means its lock is released too.
      void this.#idle.settled().then(() => this.#markClosed());
    })();
    return this.#closing;
  }

  #accept(socket: Socket): void {
    const conn = this.#nextConn++;
    this.#connections.set(conn, socket);
    this.#idle.touch();
    const reader = new LineReader((line) => void this.#handle(conn, socket, line));
    socket.on('data', (chunk: Buffer) => {
      if (!reader.push(chunk)) {
        this.#log.warn({ conn }, 'request line too long; dropping the connection');
        socket.destroy();
      }
    });
    socket.on('error', (error) => this.#log.debug({ conn, err: error.message }, 'connection error'));
    socket.on('close', () => {
      this.#connections.delete(conn);
      this.#idle.touch();
      // Connections we drop while closing are not routers leaving: they come back to the next
      // manager, which learns from the registry that they were attached.
      if (this.#closing === undefined) this.options.fleet.detachConnection(conn);
    });
  }

  async #handle(conn: number, socket: Socket, line: string): Promise<void> {
    const parsed = parseRequest(line);
    let response: ManagerResponse;
    if (!parsed.ok) {
      response = { id: parsed.id, ok: false, error: { code: 'BAD_REQUEST', message: parsed.message } };
    } else {
      this.#requests++;
      if (parsed.request.op === 'acquire') startupMark('acquire-received');
      try {
        if (ROUTER_OPS.has(parsed.request.op)) await this.#adopted;
        else {
          this.#wantHttp();
          await this.ready;
        }
        response = { id: parsed.request.id, ok: true, result: await this.#dispatch(conn, parsed.request) };
      } catch (error) {
        response = { id: parsed.request.id, ok: false, error: errorBody(error) };
        if (!isFleetError(error)) this.#log.error({ op: parsed.request.op, err: String(error) }, 'request failed unexpectedly');
      } finally {
        this.#requests--;
        this.#idle.touch();
      }
      // Connections dropped while closing come back to the next manager (see #accept).
      if (this.#closing === undefined) this.options.fleet.detachStale((c) => this.#connections.has(c));
    }
    if (!socket.destroyed) socket.write(encodeLine(response));
    if (parsed.ok && ROUTER_OPS.has(parsed.request.op)) this.#wantHttp();
    if (parsed.ok && parsed.request.op === 'acquire') {
      startupMark('acquire-answered');
      writeStartupTrace();
    }
    if (parsed.ok && parsed.request.op === 'shutdown' && response.ok) void this.close();
  }

  #dispatch(conn: number, req: ManagerRequest): Promise<unknown> | unknown {
    const socket = this.#connections.get(conn);
    const subscriber = socket === undefined ? undefined : {
      push: (event: ManagerEvent) => {
        if (!socket.destroyed) socket.write(encodeLine(event));
      },
      onClose: (stop: () => void) => {
        if (socket.destroyed) stop();
        else socket.once('close', stop);
      },
    };
    return runOperation(this.#context, conn, req, subscriber);
  }

  get #context(): OperationContext {
    return { fleet: this.options.fleet, home: this.options.home, socketPath: this.socketPath, startedAt: this.startedAt, cpu: this.#cpu, usage: this.#usage };
  }
}

async function loadHttpModules() {
  const [{ ManagerHttp }, { createFleetMetrics }] = await Promise.all([import('./http/http-server.js'), import('./http/metrics.js')]);
  return { ManagerHttp, createFleetMetrics };
}
