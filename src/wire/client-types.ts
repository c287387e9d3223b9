/** The JupyterClient's options and request types (client.ts holds the behaviour). */
import type { Logger } from '../shared/log.js';
import type { RejectReason, WireMessage } from './codec.js';
import type { ConnectionInfo } from './connection-file.js';
import type { ReplyTypeOf, RequestContent } from './messages.js';

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
  /**
   * A topic subscribed besides everything (''), only this client's: a kernel's XPUB passes on
   * only the first subscription to a topic, so a client joining while another still holds ''
   * gets no iopub_welcome; one for its own topic (ipykernel 7 sends it there) tells it when
   * its subscription is live.
   */
  iopubWelcomeTopic?: string;
  /** How many sent msg_ids sentHere() remembers. Default 10000. */
  rememberSent?: number;
  /** Refuse a signature seen before, as jupyter_client's Session does. Default true. */
  replayGuard?: boolean;
  /**
   * How soon a connect to a kernel not listening yet is tried again. Default zeromq's 100 ms (as
   * jupyter_client): a start-up measured with it is rounded up to that grid, so the bench sets less.
   */
  reconnectIntervalMs?: number;
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
