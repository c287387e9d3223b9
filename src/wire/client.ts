/**
 * One Jupyter client over zeromq: DEALERs on shell, control and stdin sharing one routing id,
 * a SUB on iopub, every message signed and verified with the connection file's key. Each
 * socket has exactly one reader loop and one bounded send queue (zeromq.js allows a single
 * pending send per socket), and replies are matched to requests by their parent msg_id.
 * The heartbeat has its own client (heartbeat-client.ts): a REQ socket with another life cycle.
 */
import { randomUUID } from 'node:crypto';
import * as zmq from 'zeromq';
import { silentLogger, type Logger } from '../shared/log.js';
import { JupyterClientError } from './client-errors.js';
import { createMessage, decode, encode, type RejectReason, type WireMessage } from './codec.js';
import { endpoint, type ConnectionInfo } from './connection-file.js';
import { IopubFeed, type IopubFeedOptions } from './iopub-feed.js';
import type { ContentOf, ReplyTypeOf, RequestContent } from './messages.js';
import { SendQueue } from './send-queue.js';
import { ReplayGuard, createSigner, type Signer } from './sign.js';

export type RequestChannel = 'shell' | 'control' | 'stdin';
export type ClientChannel = RequestChannel | 'iopub';
export const CLIENT_CHANNELS: readonly ClientChannel[] = ['shell', 'control', 'stdin', 'iopub'];

/** Why a message was not delivered: the codec's reasons, or a custom iopub decoder that returned nothing. */
export type ClientRejectReason = RejectReason | 'UNDECODED';

export interface JupyterClientOptions {
  connection: ConnectionInfo;
  /**
   * Routing id of the shell, control and stdin DEALERs (one, as jupyter_client shares it).
   * Default: random. A kernel that answers only a fixed id (llmspell's `inprocess_client`) needs it set.
   */
  routingId?: string;
  /** header.session of every message sent. Default: random. */
  session?: string;
  /** header.username. Default 'llmspell-fleet'. */
  username?: string;
  /** Sockets to open. Default: shell, control, stdin and iopub. */
  channels?: readonly ClientChannel[];
  logger?: Logger;
  /** Default timeout of each request; a request's own timeoutMs wins. Default: none (a cell may run for hours). */
  timeoutMs?: number;
  /** Messages held per socket before a send is refused with QUEUE_FULL. Default 10000. */
  sendQueueCapacity?: number;
  /** Larger inbound messages are refused (TOO_LARGE). Default: no limit. */
  maxMessageBytes?: number;
  /** iopub SUB high-water mark. Default 0 (no limit): a client must not lose output. */
  iopubHighWaterMark?: number;
  /** Refuse a signature seen before, as jupyter_client's Session does. Default true. */
  replayGuard?: boolean;
  /**
   * Reads iopub frames in a kernel's own format instead of signed Jupyter multiparts (llmspell
   * publishes unsigned single-frame JSON). Undefined means "not a message": it is counted as rejected.
   */
  decodeIopub?: (frames: Buffer[]) => WireMessage | undefined;
  /** A refused inbound message; `oversized` when it was properly signed but over maxMessageBytes. */
  onRejected?: (channel: ClientChannel, reason: ClientRejectReason, oversized?: { bytes: number; msg: WireMessage }) => void;
  /**
   * A verified shell/control/stdin message that answers no waiting request: an input_request,
   * a reply routed to other clients' ids (a relay), or a reply that came after its request gave up.
   */
  onUnmatched?: (channel: RequestChannel, msg: WireMessage) => void;
  /** Every accepted message, in arrival order across channels, before it is dispatched. */
  onReceive?: (channel: ClientChannel, msg: WireMessage) => void;
}

export interface RequestOptions {
  /** Default shell; control for shutdown, interrupt and debug requests. */
  channel?: 'shell' | 'control';
  timeoutMs?: number;
  /** Aborting rejects the request with the signal's reason; a late reply then goes to onUnmatched. */
  signal?: AbortSignal;
  metadata?: object;
  buffers?: readonly Buffer[];
}

export interface PostOptions {
  parentHeader?: object;
  metadata?: object;
  buffers?: readonly Buffer[];
}

/** Content a request of type T takes: typed for the spec's requests, any object otherwise. */
export type RequestContentOf<T extends string> = T extends keyof RequestContent ? RequestContent[T] : object;

export interface PendingRequest<T extends string> {
  readonly msgId: string;
  readonly reply: Promise<WireMessage<ReplyTypeOf<T>>>;
}

/** An iopub handler may return a promise: the reader takes the next message once it settles. */
export type IopubHandler = (msg: WireMessage) => void | Promise<void>;

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
  #closed = false;

  constructor(options: JupyterClientOptions) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger();
    this.routingId = options.routingId ?? `llmspell-fleet-${randomUUID()}`;
    this.session = options.session ?? randomUUID();
    const info = options.connection;
    this.signer = createSigner(info.key, info.signature_scheme);
    this.#replay = options.replayGuard === false ? undefined : new ReplayGuard();
    const channels = new Set(options.channels ?? CLIENT_CHANNELS);
    for (const channel of ['shell', 'control', 'stdin'] as const) {
      if (!channels.has(channel)) continue;
      const socket = new zmq.Dealer({ routingId: this.routingId, linger: 0, sendHighWaterMark: 0, receiveHighWaterMark: 0 });
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
      const socket = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: options.iopubHighWaterMark ?? 0 });
      socket.subscribe();
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
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => waiting.reject(new JupyterClientError('REQUEST_TIMEOUT', { msgType, msgId, channel, timeoutMs })), timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    if (!this.#closed && !signal?.aborted && !queue.push(encode(msg, this.signer))) {
      this.#waiting.get(msgId)?.reject(new JupyterClientError('QUEUE_FULL', { msgType, msgId, channel }));
    }
    return { msgId, reply };
  }

  /** A message that expects no reply (input_reply on stdin, comm messages); returns its msg_id. */
  post<T extends string>(channel: RequestChannel, msgType: T, content: ContentOf<T>, options: PostOptions = {}): string {
    const msg = createMessage({ msgType, content, session: this.session, username: this.#options.username, ...options });
    if (!this.#push(channel, msg)) throw new JupyterClientError('QUEUE_FULL', { msgType, msgId: msg.msgId, channel });
    return msg.msgId;
  }

  /** Relay a verified message someone else made: same bytes, signed with this connection's key. False if refused. */
  forward(channel: RequestChannel, msg: WireMessage): boolean {
    return this.#queue(channel, msg.msgType).push(encode(msg, this.signer));
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
