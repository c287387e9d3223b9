import type { Logger } from '../shared/log.js';

/** What a queue needs from a zeromq socket: one send at a time, awaited. */
export interface FrameSink {
  send(frames: Buffer[]): Promise<void>;
}

export interface SendQueueOptions {
  name: string;
  logger: Logger;
  /** Messages held before new ones are refused (counted and logged, never silently). */
  capacity?: number;
  /** Called when a send fails (e.g. EHOSTUNREACH for a client that left). */
  onSendError?: (error: unknown, frames: Buffer[]) => void;
}

/**
 * zeromq.js allows one pending send per socket (a second one rejects with EBUSY), so every
 * writer goes through one of these: callers push synchronously and keep their own ordering,
 * a single loop drains. This is also where a flood becomes visible (depth, dropped).
 */
export class SendQueue {
  #items: (Buffer[] | undefined)[] = [];
  #head = 0;
  #draining = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  readonly capacity: number;
  dropped = 0;
  sent = 0;
  failed = 0;

  constructor(private readonly sink: FrameSink, private readonly options: SendQueueOptions) {
    this.capacity = options.capacity ?? 1_000_000;
  }

  get depth(): number {
    return this.#items.length - this.#head;
  }

  /** False if the message was refused because the queue is full or closed. */
  push(frames: Buffer[]): boolean {
    if (this.#closed) return false;
    if (this.depth >= this.capacity) {
      this.dropped++;
      this.options.logger.error({ queue: this.options.name, depth: this.depth, dropped: this.dropped }, 'send queue full: message dropped');
      return false;
    }
    this.#items.push(frames);
    if (!this.#draining) void this.#drain();
    return true;
  }

  /** Resolves once everything pushed so far has been handed to zeromq. */
  drained(): Promise<void> {
    if (this.depth === 0 && !this.#draining) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  close(): void {
    this.#closed = true;
    this.#items = [];
    this.#head = 0;
    this.#wake();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (!this.#closed && this.#head < this.#items.length) {
        const frames = this.#items[this.#head]!;
        this.#items[this.#head++] = undefined;
        // Compact now and then so a long-lived queue does not keep a growing array.
        if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
          this.#items = this.#items.slice(this.#head);
          this.#head = 0;
        }
        try {
          await this.sink.send(frames);
          this.sent++;
        } catch (error) {
          this.failed++;
          if (this.#closed) break;
          this.options.onSendError?.(error, frames);
        }
      }
    } finally {
      this.#draining = false;
      this.#wake();
    }
  }

  #wake(): void {
    if (this.depth > 0 && !this.#closed) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
