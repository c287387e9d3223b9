/**
 * Pings a kernel's hb channel (a REP that echoes what it gets). A REQ socket whose ping went
 * unanswered is stuck: it may not send again until it has received. So after a timeout (or
 * an abort) the socket is closed and the next ping connects a new one; an echo that arrives
 * late is then dropped with the old socket instead of being taken for the next ping's.
 */
import { randomUUID } from 'node:crypto';
import * as zmq from './zmq.js';
import { silentLogger, type Logger } from '../shared/log.js';
import { endpoint, type ConnectionInfo } from './connection-file.js';
import { curveClientOptions, type CurveClientOptions } from './curve.js';

export interface HeartbeatClientOptions {
  connection: ConnectionInfo;
  logger?: Logger;
}

export class HeartbeatClient {
  readonly #info: ConnectionInfo;
  readonly #logger: Logger;
  readonly #curve: CurveClientOptions;
  #socket: zmq.Request | undefined;
  /** One ping at a time: REQ allows a single exchange in flight, zeromq.js a single pending send. */
  #chain: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: HeartbeatClientOptions) {
    this.#info = options.connection;
    this.#logger = options.logger ?? silentLogger();
    this.#curve = curveClientOptions(options.connection);
  }

  /**
   * One echo: the round trip in ms, or undefined when none came within `timeoutMs` (or the
   * client is closed). Concurrent calls take turns. Aborting rejects with the signal's reason.
   */
  ping(timeoutMs: number, signal?: AbortSignal): Promise<number | undefined> {
    const turn = this.#chain.then(() => this.#pingOnce(timeoutMs, signal));
    this.#chain = turn.catch(() => undefined);
    return turn;
  }

  /** Idempotent; a ping in flight resolves undefined. */
  close(): void {
    this.#closed = true;
    this.#reset();
  }

  async #pingOnce(timeoutMs: number, signal?: AbortSignal): Promise<number | undefined> {
    signal?.throwIfAborted();
    if (this.#closed) return undefined;
    const socket = (this.#socket ??= this.#connect());
    socket.sendTimeout = timeoutMs;
    socket.receiveTimeout = timeoutMs;
    const payload = Buffer.from(randomUUID());
    const started = performance.now();
    // Closing the socket is how a pending receive is cancelled.
    const onAbort = () => this.#reset();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await socket.send(payload);
      const [echo] = await socket.receive();
      if (echo !== undefined && echo.equals(payload)) return Math.max(0, Math.round(performance.now() - started));
      this.#logger.debug('heartbeat echo did not match the ping');
      this.#reset();
      return undefined;
    } catch (error) {
      this.#reset();
      if (signal?.aborted) throw signal.reason;
      if (!this.#closed && (error as { code?: string }).code !== 'EAGAIN') this.#logger.debug({ err: error }, 'heartbeat ping failed');
      return undefined;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  #connect(): zmq.Request {
    const socket = new zmq.Request({ linger: 0, ...this.#curve });
    socket.connect(endpoint(this.#info, 'hb'));
    return socket;
  }

  #reset(): void {
    if (this.#socket !== undefined && !this.#socket.closed) this.#socket.close();
    this.#socket = undefined;
  }
}

/** One echo on a client made and closed for it: round trip in ms, or undefined. */
export async function pingHeartbeat(info: ConnectionInfo, timeoutMs: number): Promise<number | undefined> {
  const client = new HeartbeatClient({ connection: info });
  try {
    return await client.ping(timeoutMs);
  } finally {
    client.close();
  }
}
