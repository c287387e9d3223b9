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
  intervalMs?: number;
  timeoutMs?: number;
  onChange?: (responsive: boolean) => void;
}

/** Pings the backend's hb REP; REQ is relaxed+correlated so a lost reply does not wedge it. */
export class BackendHeartbeat {
  readonly #socket: zmq.Request;
  readonly #intervalMs: number;
  #responsive: boolean | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  lastReplyAt = 0;

  constructor(private readonly options: BackendHeartbeatOptions) {
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#socket = new zmq.Request({ relaxed: true, correlate: true, receiveTimeout: options.timeoutMs ?? 1500, linger: 0 });
    this.#socket.connect(endpoint(options.info, 'hb'));
  }

  get responsive(): boolean {
    return this.#responsive === true;
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
      let ok = false;
      try {
        await this.#socket.send(Buffer.from('ping'));
        await this.#socket.receive();
        ok = true;
        this.lastReplyAt = Date.now();
      } catch (error) {
        if (this.#closed) return;
        this.options.logger.debug({ err: (error as Error).message }, 'backend heartbeat missed');
      }
      if (ok !== this.#responsive) {
        this.#responsive = ok;
        this.options.onChange?.(ok);
      }
      await new Promise<void>((resolve) => { this.#timer = setTimeout(resolve, this.#intervalMs); this.#timer.unref(); });
    }
  }
}
