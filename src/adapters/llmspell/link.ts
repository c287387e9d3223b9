import { randomUUID } from 'node:crypto';
import { setTimeout as wait } from 'node:timers/promises';
import * as zmq from 'zeromq';
import type { Logger } from '../../shared/log.js';
import { createMessage, decode, encode } from '../../wire/codec.js';
import { endpoint, type ConnectionInfo } from '../../wire/connection-file.js';
import { createSigner, type Signer } from '../../wire/sign.js';
import { parseIopub, type LlmspellEvent } from './dialect.js';

/** llmspell answers only this routing id (its own in-process client's); any other gets nothing. */
export const LLMSPELL_ROUTING_ID = 'inprocess_client';

/** Returns true when the execution it watches is over (llmspell went idle). */
export type EventSink = (event: LlmspellEvent) => boolean;

/**
 * The adapter's one connection to llmspell: shell (a DEALER with the only routing id it answers),
 * iopub (its single-frame JSON) and heartbeat. The adapter runs one execution at a time, so
 * iopub belongs to whoever holds the sink; llmspell's parent_header is always null and cannot say.
 */
export class LlmspellLink {
  readonly #signer: Signer;
  readonly #session = `llmspell-fleet-adapter-${randomUUID()}`;
  readonly #shell: zmq.Dealer;
  readonly #iopub: zmq.Subscriber;
  #hb: zmq.Request | undefined;
  #sink: EventSink | undefined;
  #sinkDone: (() => void) | undefined;
  #sending: Promise<unknown> = Promise.resolve();
  readonly #replies = new Map<string, (content: Record<string, unknown>) => void>();
  #closed = false;

  constructor(
    private readonly info: ConnectionInfo,
    private readonly logger: Logger,
  ) {
    this.#signer = createSigner(info.key, info.signature_scheme);
    this.#shell = new zmq.Dealer({ routingId: LLMSPELL_ROUTING_ID, linger: 0 });
    this.#iopub = new zmq.Subscriber({ linger: 0 });
    this.#iopub.subscribe();
    this.#shell.connect(endpoint(info, 'shell'));
    this.#iopub.connect(endpoint(info, 'iopub'));
    void this.#readShell();
    void this.#readIopub();
  }

  /** llmspell's kernel_info content, or undefined when it did not answer within `timeoutMs`. */
  async kernelInfo(timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    const request = createMessage({ msgType: 'kernel_info_request', content: {}, session: this.#session });
    const reply = new Promise<Record<string, unknown>>((resolve) => this.#replies.set(request.msgId, resolve));
    await this.#send(encode(request, this.#signer, []));
    const content = await Promise.race([reply, wait(timeoutMs, undefined, { ref: false })]);
    this.#replies.delete(request.msgId);
    return content;
  }

  /**
   * Runs `code` and hands every iopub event to `sink` until it says the execution is over.
   * Resolves then, or rejects when `signal` aborts (llmspell died, the adapter is closing).
   */
  async execute(code: string, sink: EventSink, signal: AbortSignal): Promise<void> {
    if (this.#sink !== undefined) throw new Error('LlmspellLink.execute: an execution is already running');
    signal.throwIfAborted();
    const done = new Promise<void>((resolve, reject) => {
      this.#sink = sink;
      this.#sinkDone = resolve;
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    const content = { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false };
    const request = createMessage({ msgType: 'execute_request', content, session: this.#session });
    try {
      await this.#send(encode(request, this.#signer, []));
      await done;
    } finally {
      this.#sink = undefined;
      this.#sinkDone = undefined;
    }
  }

  /** True when llmspell's heartbeat echoes within `timeoutMs` (it never does while a cell runs). */
  async ping(timeoutMs: number): Promise<boolean> {
    if (this.#closed) return false;
    this.#hb ??= this.#newHeartbeat();
    const hb = this.#hb;
    try {
      await hb.send('ping');
      const answered = await Promise.race([hb.receive().then(() => true), wait(timeoutMs, false, { ref: false })]);
      if (!answered) this.#dropHeartbeat(hb);
      return answered;
    } catch {
      this.#dropHeartbeat(hb);
      return false;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [this.#shell, this.#iopub, this.#hb]) if (s && !s.closed) s.close();
  }

  #newHeartbeat(): zmq.Request {
    const hb = new zmq.Request({ linger: 0 });
    hb.connect(endpoint(this.info, 'hb'));
    return hb;
  }

  /** A REQ socket that missed its reply is stuck in the wrong state; a new one starts clean. */
  #dropHeartbeat(hb: zmq.Request): void {
    if (!hb.closed) hb.close();
    if (this.#hb === hb) this.#hb = undefined;
  }

  #send(frames: Buffer[]): Promise<void> {
    // zeromq.js allows one pending send per socket: chain them.
    const next = this.#sending.then(() => this.#shell.send(frames));
    this.#sending = next.catch(() => undefined);
    return next;
  }

  async #readShell(): Promise<void> {
    try {
      for await (const frames of this.#shell) {
        const result = decode(frames, { signer: this.#signer });
        if (!result.ok) {
          this.logger.warn({ reason: result.reason }, 'llmspell shell message refused');
          continue;
        }
        const parent = result.msg.parentHeader.msg_id;
        const resolve = parent !== undefined ? this.#replies.get(parent) : undefined;
        if (resolve) resolve(result.msg.content());
        else this.logger.debug({ msgType: result.msg.msgType }, 'unexpected llmspell shell message');
      }
    } catch (error) {
      if (!this.#closed) this.logger.error({ err: error }, 'llmspell shell reader failed');
    }
  }

  async #readIopub(): Promise<void> {
    try {
      for await (const frames of this.#iopub) {
        const event = parseIopub(frames);
        if (event === undefined) {
          this.logger.warn({ frames: frames.length }, 'unreadable llmspell iopub message');
          continue;
        }
        if (this.#sink === undefined) {
          this.logger.debug({ msgType: event.msgType }, 'llmspell iopub outside an execution');
          continue;
        }
        if (this.#sink(event)) this.#sinkDone?.();
      }
    } catch (error) {
      if (!this.#closed) this.logger.error({ err: error }, 'llmspell iopub reader failed');
    }
  }
}
