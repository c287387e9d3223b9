import { setTimeout as wait } from 'node:timers/promises';
import type * as zmq from 'zeromq';
import type { Logger } from '../shared/log.js';
import { createMessage, decode, encode, type RejectReason, type WireMessage } from '../wire/codec.js';
import type { ConnectionInfo } from '../wire/connection-file.js';
import { ReplayGuard, createSigner, type Signer } from '../wire/sign.js';
import type { RequestChannel } from './backend-link.js';
import { serveHeartbeat } from './heartbeat.js';
import { SendQueue } from '../wire/send-queue.js';
import { bindFrontend, closeAll, type FrontendSockets } from './sockets.js';

/** Messages queued for the iopub socket before backend readers pause (see sockets.ts). */
const IOPUB_QUEUE_HIGH = 1000;

export interface FrontendOptions {
  /** The connection file Jupyter wrote for "the kernel", i.e. for us. */
  connection: ConnectionInfo;
  logger: Logger;
  maxMessageBytes: number;
  /** A verified request from a client, in arrival order per channel. */
  onRequest(channel: RequestChannel, msg: WireMessage): void;
  /** A new iopub subscriber (it missed everything published before). */
  onSubscribe(topic: string): void;
  /** A message refused at the door, or a send that failed. */
  onDropped(channel: string, reason: RejectReason | string): void;
  /** A properly signed request over maxMessageBytes (already counted as dropped): its sender should be told. */
  onOversized?(channel: RequestChannel, msg: WireMessage, bytes: number): void;
}

/**
 * The client-facing half of the router: the five sockets Jupyter connects to. Everything that
 * arrives is verified with the client's key before anyone sees it; everything that leaves is
 * signed with that key. One reader per socket, one send queue per socket.
 */
export class Frontend {
  readonly #signer: Signer;
  readonly #replay = new ReplayGuard();
  #sockets: FrontendSockets | undefined;
  #queues: Record<RequestChannel | 'iopub', SendQueue> | undefined;
  #closed = false;

  constructor(private readonly options: FrontendOptions) {
    this.#signer = createSigner(options.connection.key, options.connection.signature_scheme);
  }

  /** Binds the sockets (throws BIND_FAILED) and starts reading. */
  async bind(session: string): Promise<void> {
    this.session = session;
    const sockets = await bindFrontend(this.options.connection);
    this.#sockets = sockets;
    const { logger, onDropped } = this.options;
    const queue = (channel: RequestChannel | 'iopub') =>
      new SendQueue(sockets[channel], {
        name: `frontend.${channel}`,
        logger,
        waitWhenFull: channel === 'iopub',
        // EHOSTUNREACH: the client that asked has gone (ROUTER_MANDATORY makes that visible).
        onSendError: (error) => onDropped(`frontend.${channel}`, (error as { code?: string }).code ?? 'SEND_FAILED'),
      });
    this.#queues = { shell: queue('shell'), control: queue('control'), stdin: queue('stdin'), iopub: queue('iopub') };
    for (const channel of ['shell', 'control', 'stdin'] as const) void this.#read(channel, sockets[channel]);
    void this.#readSubscriptions(sockets.iopub);
    void serveHeartbeat(sockets.hb).catch((error) => logger.error({ err: error }, 'heartbeat failed'));
  }

  session = '';

  /** Relay a backend's message to the client its routing ids name. */
  send(channel: RequestChannel, msg: WireMessage): void {
    this.#queues?.[channel].push(encode(msg, this.#signer));
  }

  /** Relay a backend's iopub message to every subscriber. */
  publish(msg: WireMessage): void {
    this.#queues?.iopub.push(encode(msg, this.#signer));
  }

  /**
   * Backpressure for iopub producers (backend readers): undefined while the iopub queue has
   * room, else a promise for when it has drained to half. Router-made messages never wait.
   */
  iopubRoom(): Promise<void> | undefined {
    return this.#queues?.iopub.room(IOPUB_QUEUE_HIGH);
  }

  /** A reply the router makes itself, addressed like the request. */
  reply(channel: RequestChannel, request: WireMessage, msgType: string, content: object): void {
    const reply = createMessage({ msgType, content, session: this.session, parentHeader: request.header, identities: request.identities });
    this.send(channel, reply);
  }

  /** An iopub message the router publishes itself. */
  broadcast(msgType: string, content: object, parentHeader: object = {}): void {
    const topic = Buffer.from(msgType === 'status' ? 'kernel.llmspell-fleet.status' : msgType);
    this.publish(createMessage({ msgType, content, session: this.session, parentHeader, identities: [topic] }));
  }

  /** Lets queued replies out (bounded wait), then closes every socket. */
  async close(drainMs = 1000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const queues = this.#queues ? Object.values(this.#queues) : [];
    await Promise.race([Promise.all(queues.map((q) => q.drained())), wait(drainMs, undefined, { ref: false })]);
    for (const q of queues) q.close();
    if (this.#sockets) closeAll(this.#sockets);
  }

  async #read(channel: RequestChannel, socket: zmq.Router): Promise<void> {
    try {
      for await (const frames of socket) {
        const result = decode(frames, { signer: this.#signer, replay: this.#replay, maxBytes: this.options.maxMessageBytes });
        if (result.ok) {
          this.options.onRequest(channel, result.msg);
          continue;
        }
        this.options.onDropped(`frontend.${channel}`, result.reason);
        if (result.msg && result.bytes !== undefined) this.options.onOversized?.(channel, result.msg, result.bytes);
      }
    } catch (error) {
      if (!this.#closed) this.options.logger.error({ err: error, channel }, 'client reader failed');
    }
  }

  async #readSubscriptions(socket: zmq.XPublisher): Promise<void> {
    try {
      for await (const [frame] of socket) {
        if (frame && frame[0] === 1) this.options.onSubscribe(frame.subarray(1).toString('utf8'));
      }
    } catch (error) {
      if (!this.#closed) this.options.logger.error({ err: error }, 'subscription reader failed');
    }
  }
}
