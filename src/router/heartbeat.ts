import * as zmq from 'zeromq';
import type { Logger } from '../shared/log.js';
import { endpoint, type ConnectionInfo } from '../wire/connection-file.js';

/**
 * The client's heartbeat is answered by the router itself: it says "the kernel process the
 * client launched is alive", which is the router. Whether the backend answers is tracked
 * separately (BackendHeartbeat) so that a busy or dead backend never looks like a dead router.
 */
export async function serveHeartbeat(socket: zmq.Reply): Promise<void> {
  try {
    for await (const frames of socket) await socket.send(frames);
  } catch (error) {
    if (!socket.closed) throw error;
  }
}

export interface BackendHeartbeatOptions {
  info: ConnectionInfo;
  logger: Logger;
  /** Silence on the backend's hb for this long makes it unresponsive. Default 2500. */
  timeoutMs?: number;
  /** Time between pings; also how long one ping waits. Default timeoutMs / 5, at most 1000. */
  intervalMs?: number;
  onChange?: (responsive: boolean, silentMs: number) => void;
}

/**
 * Pings the backend's hb REP. REQ is relaxed+correlated, so a lost reply does not wedge the
 * socket: the next ping simply goes out. Unresponsive means "no echo for timeoutMs", so it is
 * noticed within timeoutMs plus one interval.
 */
export class BackendHeartbeat {
  readonly #socket: zmq.Request;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  #responsive: boolean | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  /** Counts from the start, so a backend that never answers is noticed too. */
  lastReplyAt = Date.now();

  constructor(private readonly options: BackendHeartbeatOptions) {
    this.#timeoutMs = options.timeoutMs ?? 2500;
    this.#intervalMs = options.intervalMs ?? Math.min(1000, this.#timeoutMs / 5);
    this.#socket = new zmq.Request({ relaxed: true, correlate: true, receiveTimeout: this.#intervalMs, linger: 0 });
    this.#socket.connect(endpoint(options.info, 'hb'));
  }

  get responsive(): boolean {
    return this.#responsive !== false;
  }

  start(): void {
    void this.#loop();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#socket.close();
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      const sentAt = Date.now();
      let echoed = false;
      try {
        await this.#socket.send(Buffer.from('ping'));
        await this.#socket.receive();
        this.lastReplyAt = Date.now();
        echoed = true;
      } catch (error) {
        if (this.#closed) return;
        this.options.logger.debug({ err: (error as Error).message }, 'backend heartbeat missed');
      }
      const silentMs = Date.now() - this.lastReplyAt;
      const responsive = silentMs < this.#timeoutMs;
      // Responsive is first said after a real echo, not because the timeout has not run out yet.
      const known = echoed || !responsive || this.#responsive !== undefined;
      if (known && responsive !== this.#responsive) {
        this.#responsive = responsive;
        this.options.onChange?.(responsive, silentMs);
      }
      const rest = Math.max(0, this.#intervalMs - (Date.now() - sentAt));
      await new Promise<void>((resolve) => { this.#timer = setTimeout(resolve, rest); this.#timer.unref(); });
    }
  }
}
