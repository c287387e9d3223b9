import { randomUUID } from 'node:crypto';
import type * as zmq from 'zeromq';
import type { Logger } from '../shared/log.js';
import { createMessage, decode, encode, type RejectReason, type WireMessage } from '../wire/codec.js';
import { ReplayGuard, createSigner, type Signer } from '../wire/sign.js';
import { BackendHeartbeat } from './heartbeat.js';
import { SendQueue } from './send-queue.js';
import { closeAll, connectBackend, type BackendSockets } from './sockets.js';
import type { BackendLease } from './types.js';

export type RequestChannel = 'shell' | 'control' | 'stdin';

export interface BackendLinkOptions {
  lease: BackendLease;
  logger: Logger;
  maxMessageBytes?: number;
  /** A reply or input_request addressed to a client (routing ids present). */
  onClientBound: (channel: RequestChannel, msg: WireMessage) => void;
  /** An iopub message to broadcast (the link has already dropped the router's own traffic). */
  onIopub: (msg: WireMessage) => void;
  /** Backpressure: a promise to await before reading the next iopub message, or undefined to go on. */
  iopubRoom?: () => Promise<void> | undefined;
  onRejected: (channel: string, reason: RejectReason) => void;
  /** A properly signed backend message over maxMessageBytes (already counted as rejected). */
  onOversized?: (channel: RequestChannel | 'iopub', msg: WireMessage, bytes: number) => void;
  /** Silence on the backend's hb for this long counts as unresponsive (default 2500 ms). */
  heartbeatTimeoutMs?: number;
  onHeartbeat?: (responsive: boolean, silentMs: number) => void;
}

/**
 * The router's connection to one backend kernel: verifies everything the backend sends with
 * the backend's key, signs everything sent to it with that key, and answers the router's own
 * requests (readiness probe, shutdown) without involving any client.
 */
export class BackendLink {
  readonly routingId = `llmspell-fleet-${randomUUID()}`;
  readonly session = randomUUID();
  readonly signer: Signer;
  readonly heartbeat: BackendHeartbeat;
  readonly #sockets: BackendSockets;
  readonly #queues: Record<RequestChannel, SendQueue>;
  readonly #replay = new ReplayGuard();
  /** msg_ids of the router's own requests: their replies and iopub side effects stay here. */
  readonly #own = new Map<string, (reply: WireMessage) => void>();
  readonly #ownIds = new Set<string>();
  #iopubSeen = false;
  #iopubWaiters: (() => void)[] = [];
  #closed = false;

  constructor(private readonly options: BackendLinkOptions) {
    const info = options.lease.connection;
    this.signer = createSigner(info.key, info.signature_scheme);
    this.#sockets = connectBackend(info, this.routingId);
    const make = (ch: RequestChannel) =>
      new SendQueue(this.#sockets[ch], { name: `backend.${ch}`, logger: options.logger });
    this.#queues = { shell: make('shell'), control: make('control'), stdin: make('stdin') };
    for (const ch of ['shell', 'control', 'stdin'] as const) void this.#readReplies(ch, this.#sockets[ch]);
    void this.#readIopub();
    this.heartbeat = new BackendHeartbeat({ info, logger: options.logger, timeoutMs: options.heartbeatTimeoutMs, onChange: options.onHeartbeat });
    this.heartbeat.start();
  }

  /** Forward a verified client message: same bytes, signed with the backend's key. */
  forward(channel: RequestChannel, msg: WireMessage): void {
    this.#queues[channel].push(encode(msg, this.signer));
  }

  /** Send a request of the router's own; resolves with its reply. */
  request(channel: 'shell' | 'control', msgType: string, content: object): Promise<WireMessage> {
    const msg = createMessage({ msgType, content, session: this.session });
    this.#ownIds.add(msg.msgId);
    const reply = new Promise<WireMessage>((resolve) => this.#own.set(msg.msgId, resolve));
    this.#queues[channel].push(encode(msg, this.signer));
    return reply;
  }

  /**
   * Ready means what it means to jupyter_client: a kernel_info_reply on shell AND proof that
   * our iopub subscription is live. Until both, client requests stay queued in the router.
   */
  async handshake(signal: AbortSignal, retryMs = 500): Promise<void> {
    let replied = false;
    while (!replied) {
      signal.throwIfAborted();
      const reply = this.request('shell', 'kernel_info_request', {});
      replied = await raceTimeout(reply.then(() => true), retryMs, false, signal);
    }
    // Statuses around our own kernel_info prove iopub works. If they went out before our
    // subscription reached the publisher they are lost, so ask again (short interval) rather than
    // wait; some kernels send no status at all, hence the cap.
    const deadline = Date.now() + 2000;
    while (!this.#iopubSeen && Date.now() < deadline) {
      this.request('shell', 'kernel_info_request', {});
      await raceTimeout(this.#iopubLive(), Math.min(100, Math.max(0, deadline - Date.now())), undefined, signal);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.heartbeat.close();
    for (const q of Object.values(this.#queues)) q.close();
    closeAll(this.#sockets);
  }

  #iopubLive(): Promise<void> {
    if (this.#iopubSeen) return Promise.resolve();
    return new Promise((resolve) => this.#iopubWaiters.push(resolve));
  }

  #decode(channel: RequestChannel | 'iopub', frames: Buffer[]): WireMessage | undefined {
    const result = decode(frames, { signer: this.signer, replay: this.#replay, maxBytes: this.options.maxMessageBytes });
    if (result.ok) return result.msg;
    this.options.onRejected(`backend.${channel}`, result.reason);
    // Our own requests' oversized replies stay here like the rest of our traffic.
    const ownParent = result.msg?.parentHeader.msg_id;
    if (result.msg && result.bytes !== undefined && !(ownParent !== undefined && this.#ownIds.has(ownParent))) {
      this.options.onOversized?.(channel, result.msg, result.bytes);
    }
    return undefined;
  }

  async #readReplies(channel: RequestChannel, socket: zmq.Dealer): Promise<void> {
    try {
      for await (const frames of socket) {
        const msg = this.#decode(channel, frames);
        if (!msg) continue;
        if (msg.identities.length === 0) {
          // No client routing ids: a reply to one of the router's own requests.
          const parentId = msg.parentHeader.msg_id;
          const resolve = parentId === undefined ? undefined : this.#own.get(parentId);
          if (resolve) {
            this.#own.delete(parentId!);
            resolve(msg);
          }
          continue;
        }
        this.options.onClientBound(channel, msg);
      }
    } catch (error) {
      if (!this.#closed) this.options.logger.error({ err: error, channel }, 'backend reader failed');
    }
  }

  async #readIopub(): Promise<void> {
    try {
      for await (const frames of this.#sockets.iopub) {
        const msg = this.#decode('iopub', frames);
        if (!msg) continue;
        if (!this.#iopubSeen) {
          this.#iopubSeen = true;
          for (const w of this.#iopubWaiters.splice(0)) w();
        }
        // The router publishes its own welcome to each client; the backend's is for us alone.
        if (msg.msgType === 'iopub_welcome') continue;
        const parentId = msg.parentHeader.msg_id;
        if (parentId !== undefined && this.#ownIds.has(parentId)) continue;
        this.options.onIopub(msg);
        const room = this.options.iopubRoom?.();
        if (room) await room;
      }
    } catch (error) {
      if (!this.#closed) this.options.logger.error({ err: error }, 'backend iopub reader failed');
    }
  }
}

function raceTimeout<T>(promise: Promise<T>, ms: number, onTimeout: T, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => resolve(onTimeout), ms);
    const onAbort = () => { clearTimeout(timer); reject(signal.reason); };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { clearTimeout(timer); signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { clearTimeout(timer); signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}
