import { setTimeout as wait } from 'node:timers/promises';
import type { Logger } from '../shared/log.js';
import { sendable } from './frames.js';

const STALL_WARN_MS = 5000;

/** What a queue needs from a zeromq socket: one send at a time, awaited. */
export interface FrameSink {
  send(frames: (Buffer | string)[]): Promise<void>;
}

export interface SendQueueOptions {
  name: string;
  logger: Logger;
  /** Messages held before new ones are refused (counted and logged, never silently). */
  capacity?: number;
  /** Retry sends refused with EAGAIN (a NODROP XPUB whose slowest subscriber is full) instead of failing them. */
  waitWhenFull?: boolean;
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
  #roomWaiters: { depth: number; resolve: () => void }[] = [];
  readonly capacity: number;
  dropped = 0;
  sent = 0;
  failed = 0;
  /** Sends refused for a full subscriber and tried again. */
  full = 0;

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

  /**
   * Backpressure for a producer: undefined while depth is below `high`, else a promise that
   * resolves once the queue has drained to `low` (or closed). The gap keeps it from flapping.
   */
  room(high: number, low = Math.floor(high / 2)): Promise<void> | undefined {
    if (this.#closed || this.depth < high) return undefined;
    return new Promise((resolve) => this.#roomWaiters.push({ depth: low, resolve }));
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
        if (this.#roomWaiters.length > 0) this.#wakeRoom();
        // Compact now and then so a long-lived queue does not keep a growing array.
        if (this.#head > 4096 && this.#head * 2 > this.#items.length) {
          this.#items = this.#items.slice(this.#head);
          this.#head = 0;
        }
        try {
          await this.#sendWaitingForRoom(frames);
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

  /**
   * An XPUB with NODROP refuses a send with EAGAIN while a subscriber is a high-water mark
   * behind, and zeromq cannot say when it has room (XPUB always polls writable), so the same
   * message is tried again with a growing pause, up to 50 ms, until it goes or the queue closes.
   */
  async #sendWaitingForRoom(buffers: Buffer[]): Promise<void> {
    const frames = sendable(buffers);
    let pauseMs = 1;
    const since = Date.now();
    let warned = false;
    for (;;) {
      try {
        await this.sink.send(frames);
        if (warned) this.options.logger.warn({ queue: this.options.name, stalledMs: Date.now() - since }, 'send queue moving again');
        return;
      } catch (error) {
        if (!this.options.waitWhenFull || (error as { code?: string }).code !== 'EAGAIN' || this.#closed) throw error;
        this.full++;
        if (!warned && Date.now() - since > STALL_WARN_MS) {
          warned = true;
          // One reader that stopped (a suspended laptop, a stopped console) holds every reader back.
          this.options.logger.warn({ queue: this.options.name, depth: this.depth }, 'a receiver has taken nothing for 5 s: messages are held for it, none dropped');
        }
        await wait(pauseMs);
        pauseMs = Math.min(50, pauseMs * 2);
      }
    }
  }

  #wakeRoom(): void {
    const depth = this.depth;
    if (!this.#closed && this.#roomWaiters.every((w) => depth > w.depth)) return;
    const ready = this.#roomWaiters.filter((w) => this.#closed || depth <= w.depth);
    this.#roomWaiters = this.#roomWaiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  #wake(): void {
    this.#wakeRoom();
    if (this.depth > 0 && !this.#closed) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
