/**
 * Watches a kernel's heartbeat: a ping every interval through HeartbeatClient, and a change
 * reported when the kernel goes silent for `timeoutMs` or answers again. Unresponsive means
 * "no echo for timeoutMs", so it is noticed within timeoutMs plus one interval.
 */
import { silentLogger, type Logger } from '../shared/log.js';
import type { ConnectionInfo } from './connection-file.js';
import { HeartbeatClient } from './heartbeat-client.js';

export interface HeartbeatMonitorOptions {
  connection: ConnectionInfo;
  logger?: Logger;
  /** Silence on hb for this long makes the kernel unresponsive. Default 2500. */
  timeoutMs?: number;
  /** Time between pings; also how long one ping waits. Default timeoutMs / 5, at most 1000. */
  intervalMs?: number;
  onChange?: (responsive: boolean, silentMs: number) => void;
}

export class HeartbeatMonitor {
  readonly #client: HeartbeatClient;
  readonly #timeoutMs: number;
  readonly #intervalMs: number;
  readonly #onChange: HeartbeatMonitorOptions['onChange'];
  #responsive: boolean | undefined;
  #closed = false;
  #started = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  /** Counts from the start, so a kernel that never answers is noticed too. */
  lastReplyAt = Date.now();

  constructor(options: HeartbeatMonitorOptions) {
    this.#timeoutMs = options.timeoutMs ?? 2500;
    this.#intervalMs = options.intervalMs ?? Math.min(1000, this.#timeoutMs / 5);
    this.#onChange = options.onChange;
    this.#client = new HeartbeatClient({ connection: options.connection, logger: options.logger ?? silentLogger() });
  }

  /** True until silence has been seen (a kernel is presumed alive while the first echo is on its way). */
  get responsive(): boolean {
    return this.#responsive !== false;
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.lastReplyAt = Date.now();
    void this.#loop();
  }

  /** Idempotent; no change is reported after it. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#wake?.();
    this.#client.close();
  }

  async #loop(): Promise<void> {
    while (!this.#closed) {
      const sentAt = Date.now();
      const rtt = await this.#client.ping(this.#intervalMs);
      if (this.#closed) return;
      if (rtt !== undefined) this.lastReplyAt = Date.now();
      const silentMs = Date.now() - this.lastReplyAt;
      const responsive = silentMs < this.#timeoutMs;
      // Responsive is first said after a real echo, not because the timeout has not run out yet.
      const known = rtt !== undefined || !responsive || this.#responsive !== undefined;
      if (known && responsive !== this.#responsive) {
        this.#responsive = responsive;
        this.#onChange?.(responsive, silentMs);
      }
      const rest = Math.max(0, this.#intervalMs - (Date.now() - sentAt));
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#timer = setTimeout(resolve, rest);
        this.#timer.unref();
      });
    }
  }
}
