/**
 * One Jupyter client over zeromq: DEALERs on shell, control and stdin sharing one routing id,
 * a SUB on iopub, every message signed and verified with the connection file's key. Each
 * socket has exactly one reader loop and one bounded send queue (zeromq.js allows a single
 * pending send per socket), and replies are matched to requests by their parent msg_id.
 * The heartbeat has its own client (heartbeat-client.ts): a REQ socket with another life cycle.
 */
import { randomUUID } from 'node:crypto';
import * as zmq from './zmq.js';
import { silentLogger, type Logger } from '../shared/log.js';
import { JupyterClientError } from './client-errors.js';
import { createMessage, decode, encode, type WireMessage } from './codec.js';
import { endpoint } from './connection-file.js';
import { curveClientOptions } from './curve.js';
import { IopubFeed, type IopubFeedOptions } from './iopub-feed.js';
import type { ContentOf, ReplyTypeOf } from './messages.js';
import { SendQueue } from './send-queue.js';
import {
  CLIENT_CHANNELS,
  type ClientChannel, type ClientRejectReason, type IopubHandler, type JupyterClientOptions, type PendingRequest,
  type PostOptions, type RequestChannel, type RequestContentOf, type RequestOptions,
} from './client-types.js';
import { RecentSet } from './recent-set.js';
import { ReplayGuard, createSigner, type Signer } from './sign.js';

interface Waiting {
  resolve(msg: WireMessage): void;
  reject(error: unknown): void;
}

type Sockets = Partial<Record<RequestChannel, zmq.Dealer>> & { iopub?: zmq.Subscriber };

export class JupyterClient {
  readonly routingId: string;
  readonly session: string;
  readonly signer: Signer;
  /** Inbound messages refused (bad signature, replay, too large, undecodable). */
  rejected = 0;
  readonly #options: JupyterClientOptions;
  readonly #logger: Logger;
  readonly #sockets: Sockets = {};
  readonly #queues: Partial<Record<RequestChannel, SendQueue>> = {};
  readonly #waiting = new Map<string, Waiting>();
  readonly #iopubHandlers = new Set<IopubHandler>();
  readonly #onClose = new Set<() => void>();
  readonly #replay: ReplayGuard | undefined;
  readonly #sent: RecentSet;
  #closed = false;

  constructor(options: JupyterClientOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger();
    this.routingId = options.routingId ?? `llmspell-fleet-${randomUUID()}`;
    this.session = options.session ?? randomUUID();
    const info = options.connection;
    this.signer = createSigner(info.key, info.signature_scheme);
    this.#replay = options.replayGuard === false ? undefined : new ReplayGuard();
    this.#sent = new RecentSet(options.rememberSent ?? 10_000);
    const channels = new Set(options.channels ?? CLIENT_CHANNELS);
    const reconnect = options.reconnectIntervalMs === undefined ? {} : { reconnectInterval: options.reconnectIntervalMs };
    // A kernel with curve keys only talks curve; one client pair serves all of this client's sockets.
    const curve = curveClientOptions(info);
    for (const channel of ['shell', 'control', 'stdin'] as const) {
      if (!channels.has(channel)) continue;
      const socket = new zmq.Dealer({ routingId: this.routingId, linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0, ...reconnect, ...curve });
      socket.connect(endpoint(info, channel));
      this.#sockets[channel] = socket;
      this.#queues[channel] = new SendQueue(socket, {
        name: `client.${channel}`,
        logger: this.#logger,
        capacity: options.sendQueueCapacity ?? 10_000,
        onSendError: (error) => this.#logger.warn({ err: error, channel }, 'send to kernel failed'),
      });
      void this.#readReplies(channel, socket);
    }
    if (channels.has('iopub')) {
      const socket = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: options.iopubHighWaterMark ?? 0, ...reconnect, ...curve });
      socket.subscribe();
      if (options.iopubWelcomeTopic) socket.subscribe(options.iopubWelcomeTopic);
      socket.connect(endpoint(info, 'iopub'));
      this.#sockets.iopub = socket;
      void this.#readIopub(socket);
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Send a request and wait for the reply whose parent is it. */
  request<T extends string>(msgType: T, content: RequestContentOf<T>, options: RequestOptions = {}): Promise<WireMessage<ReplyTypeOf<T>>> {
    return this.start(msgType, content, options).reply;
  }

  /** As request(), with the msg_id known at once (to pick the request's iopub out of the stream). */
  start<T extends string>(msgType: T, content: RequestContentOf<T>, options: RequestOptions = {}): PendingRequest<T> {
    const channel = options.channel ?? 'shell';
    const msg = createMessage({ msgType, content, session: this.session, username: this.#options.username, metadata: options.metadata, buffers: options.buffers });
    const msgId = msg.msgId;
    const queue = this.#queues[channel];
    if (queue === undefined) return { msgId, reply: Promise.reject(new JupyterClientError('CHANNEL_NOT_OPEN', { msgType, msgId, channel })) };
    const timeoutMs = options.timeoutMs ?? this.#options.timeoutMs;
    const { signal } = options;
    const reply = new Promise<WireMessage<ReplyTypeOf<T>>>((resolve, reject) => {
      if (this.#closed) return reject(new JupyterClientError('CLIENT_CLOSED', { msgType, msgId, channel }));
      if (signal?.aborted) return reject(signal.reason);
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => settle(() => reject(signal!.reason));
      const settle = (finish: () => void) => {
        if (this.#waiting.get(msgId) !== waiting) return;
        this.#waiting.delete(msgId);
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        finish();
      };
      const waiting: Waiting = {
        resolve: (m) => settle(() => resolve(m as WireMessage<ReplyTypeOf<T>>)),
        reject: (e) => settle(() => reject(e)),
      };
      this.#waiting.set(msgId, waiting);
      // setTimeout fires at once for delays past 2^31-1 ms; so long is no timeout at all.
      if (timeoutMs !== undefined && timeoutMs < 2 ** 31) {
        timer = setTimeout(() => waiting.reject(new JupyterClientError('REQUEST_TIMEOUT', { msgType, msgId, channel, timeoutMs })), timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    this.#sent.add(msgId);
    if (!this.#closed && !signal?.aborted && !queue.push(encode(msg, this.signer))) {
      this.#waiting.get(msgId)?.reject(new JupyterClientError('QUEUE_FULL', { msgType, msgId, channel }));
    }
    return { msgId, reply };
  }

  /** A message that expects no reply (input_reply on stdin, comm messages); returns its msg_id. */
  post<T extends string>(channel: RequestChannel, msgType: T, content: ContentOf<T>, options: PostOptions = {}): string {
    const msg = createMessage({ msgType, content, session: this.session, username: this.#options.username, ...options });
    this.#sent.add(msg.msgId);
    if (!this.#push(channel, msg)) throw new JupyterClientError('QUEUE_FULL', { msgType, msgId: msg.msgId, channel });
    return msg.msgId;
  }

  /** Relay a verified message someone else made: same bytes, signed with this connection's key. False if refused. */
  forward(channel: RequestChannel, msg: WireMessage): boolean {
    return this.#queue(channel, msg.msgType).push(encode(msg, this.signer));
  }

  /**
   * Whether `msgId` is one of the last `rememberSent` messages this client sent: a relay tells
   * its own traffic (and the iopub it causes) from its clients' by this, a test its replies from
   * someone else's.
   */
  sentHere(msgId: string): boolean {
    return this.#sent.has(msgId);
  }

  /** Every iopub message from now on, until the returned function is called or the client closes. */
  onIopub(handler: IopubHandler): () => void {
    this.#iopubHandlers.add(handler);
    return () => this.#iopubHandlers.delete(handler);
  }

  /** iopub as an async iterator, subscribed at once; it ends on return(), abort or close (see IopubFeed). */
  iopubMessages(options: IopubFeedOptions = {}): IopubFeed {
    return new IopubFeed(this, options);
  }

  /** Called once when the client closes (or at once if it has). Returns a function that unregisters. */
  whenClosed(callback: () => void): () => void {
    if (this.#closed) {
      callback();
      return () => undefined;
    }
    this.#onClose.add(callback);
    return () => this.#onClose.delete(callback);
  }

  /** Resolves once every queued message has been handed to zeromq. */
  async drained(): Promise<void> {
    await Promise.all(Object.values(this.#queues).map((q) => q.drained()));
  }

  /** Idempotent. Waiting requests reject with CLIENT_CLOSED; reader loops end as their sockets close. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [msgId, waiting] of [...this.#waiting]) waiting.reject(new JupyterClientError('CLIENT_CLOSED', { msgId }));
    for (const q of Object.values(this.#queues)) q.close();
    for (const s of Object.values(this.#sockets) as zmq.Socket[]) if (!s.closed) s.close();
    for (const callback of [...this.#onClose]) callback();
    this.#onClose.clear();
  }

  #queue(channel: RequestChannel, msgType: string): SendQueue {
    const queue = this.#queues[channel];
    if (queue === undefined) throw new JupyterClientError('CHANNEL_NOT_OPEN', { msgType, channel });
    return queue;
  }

  #push(channel: RequestChannel, msg: WireMessage): boolean {
    return this.#queue(channel, msg.msgType).push(encode(msg, this.signer));
  }

  #decode(channel: ClientChannel, frames: Buffer[]): WireMessage | undefined {
    const custom = channel === 'iopub' ? this.#options.decodeIopub : undefined;
    if (custom !== undefined) {
      const msg = custom(frames);
      if (msg === undefined) this.#reject(channel, 'UNDECODED');
      return msg;
    }
    const result = decode(frames, { signer: this.signer, replay: this.#replay, maxBytes: this.#options.maxMessageBytes });
    if (result.ok) return result.msg;
    const oversized = result.msg !== undefined && result.bytes !== undefined ? { bytes: result.bytes, msg: result.msg } : undefined;
    this.#reject(channel, result.reason, oversized);
    return undefined;
  }

  #reject(channel: ClientChannel, reason: ClientRejectReason, oversized?: { bytes: number; msg: WireMessage }): void {
    this.rejected++;
    this.#logger.debug({ channel, reason }, 'message from kernel refused');
    this.#options.onRejected?.(channel, reason, oversized);
  }

  async #readReplies(channel: RequestChannel, socket: zmq.Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        const msg = this.#decode(channel, frames);
        if (msg === undefined) continue;
        this.#options.onReceive?.(channel, msg);
        const parentId = msg.parentHeader.msg_id;
        const waiting = parentId === undefined ? undefined : this.#waiting.get(parentId);
        if (waiting !== undefined) waiting.resolve(msg);
        else this.#options.onUnmatched?.(channel, msg);
      }
    } catch (error) {
      if (!this.#closed) this.#logger.error({ err: error, channel }, 'Jupyter client reader failed');
    }
  }

  async #readIopub(socket: zmq.Subscriber): Promise<void> {
    try {
      for await (const frames of socket) {
        const msg = this.#decode('iopub', frames);
        if (msg === undefined) continue;
        this.#options.onReceive?.('iopub', msg);
        for (const handler of [...this.#iopubHandlers]) {
          try {
            const room = handler(msg);
            if (room !== undefined) await room;
          } catch (error) {
            // One broken subscriber must not stop iopub for the others.
            this.#logger.error({ err: error }, 'iopub handler failed');
          }
        }
      }
    } catch (error) {
      if (!this.#closed) this.#logger.error({ err: error }, 'Jupyter client iopub reader failed');
    }
  }
}
