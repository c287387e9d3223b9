import type { WireMessage } from './codec.js';

/** What IopubFeed needs from a client: a subscription and a close notice. */
export interface IopubSource {
  onIopub(handler: (msg: WireMessage) => void | Promise<void>): () => void;
  whenClosed(callback: () => void): () => void;
}

export interface IopubFeedOptions {
  /** Ends the iteration (without an error) when aborted. */
  signal?: AbortSignal;
  /** Messages held for a slow consumer before the client's iopub reader waits for it. Default 1000. */
  highWaterMark?: number;
}

/**
 * iopub as an async iterator, subscribed from the moment it is made (so nothing sent after
 * is missed, even before the first `next()`); `return()` (a `for await` that ends early does
 * it) or an abort or the client's close ends it. Bounded: once `highWaterMark` messages wait
 * unread, the client's single iopub reader pauses (zeromq then holds, and TCP pushes back)
 * until the consumer has taken half of them.
 */
export class IopubFeed implements AsyncIterableIterator<WireMessage> {
  readonly #held: WireMessage[] = [];
  readonly #highWaterMark: number;
  readonly #unsubscribe: (() => void)[] = [];
  #wakeConsumer: (() => void) | undefined;
  #wakeReader: (() => void) | undefined;
  #ended = false;

  constructor(source: IopubSource, options: IopubFeedOptions = {}) {
    this.#highWaterMark = Math.max(1, options.highWaterMark ?? 1000);
    const { signal } = options;
    const end = () => void this.return();
    this.#unsubscribe.push(source.onIopub((msg) => this.#take(msg)), source.whenClosed(end));
    if (signal !== undefined) {
      signal.addEventListener('abort', end, { once: true });
      this.#unsubscribe.push(() => signal.removeEventListener('abort', end));
      if (signal.aborted) end();
    }
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async next(): Promise<IteratorResult<WireMessage, undefined>> {
    while (this.#held.length === 0) {
      if (this.#ended) return { done: true, value: undefined };
      await new Promise<void>((resolve) => (this.#wakeConsumer = resolve));
    }
    const msg = this.#held.shift()!;
    if (this.#held.length <= this.#highWaterMark / 2) this.#release();
    return { done: false, value: msg };
  }

  /** Ends the feed: unsubscribes, drops what is held, and lets the client's reader go on. */
  async return(): Promise<IteratorResult<WireMessage, undefined>> {
    if (!this.#ended) {
      this.#ended = true;
      for (const off of this.#unsubscribe.splice(0)) off();
      this.#held.length = 0;
      this.#wakeConsumer?.();
      this.#wakeConsumer = undefined;
      this.#release();
    }
    return { done: true, value: undefined };
  }

  #take(msg: WireMessage): Promise<void> | undefined {
    if (this.#ended) return undefined;
    this.#held.push(msg);
    this.#wakeConsumer?.();
    this.#wakeConsumer = undefined;
    if (this.#held.length < this.#highWaterMark) return undefined;
    return new Promise((resolve) => (this.#wakeReader = resolve));
  }

  #release(): void {
    this.#wakeReader?.();
    this.#wakeReader = undefined;
  }
}
