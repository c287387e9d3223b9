import type { Logger } from '../shared/log.js';
import { createMessage, type WireMessage } from '../wire/codec.js';
import type { RequestChannel } from './backend-link.js';
import { notice, tooLarge } from './notices.js';
import { errorReplyContent, fleetKernelInfo, statusContent, streamContent } from './replies.js';

/** Where the router's own messages go: the client-facing side (Frontend satisfies it). */
export interface ReplySink {
  /** A reply addressed like `request`. */
  reply(channel: RequestChannel, request: WireMessage, msgType: string, content: object): void;
  /** A message already addressed (its routing ids set). */
  send(channel: RequestChannel, msg: WireMessage): void;
  /** An iopub message to every subscriber. */
  broadcast(msgType: string, content: object, parentHeader?: object): void;
}

export interface RouterRepliesOptions {
  sink: ReplySink;
  session: string;
  maxMessageBytes: number;
  logger: Logger;
}

/**
 * Everything the router says in a kernel's place: error replies for requests no backend will
 * answer, stand-ins for replies too large to relay, notices on stderr, and the execution
 * count of the cells it answers itself. Each reply comes with the busy/idle statuses and iopub
 * output a kernel would send, so clients waiting for idle or for a cell's output see an end.
 */
export class RouterReplies {
  #executionCount = 0;

  constructor(private readonly options: RouterRepliesOptions) {}

  /** The router's own count for cells it answers itself (magics, errors): the spec wants an int. */
  nextExecutionCount(): number {
    return ++this.#executionCount;
  }

  reply(channel: RequestChannel, request: WireMessage, msgType: string, content: object): void {
    this.options.sink.reply(channel, request, msgType, content);
  }

  broadcast(msgType: string, content: object, parentHeader: object = {}): void {
    this.options.sink.broadcast(msgType, content, parentHeader);
  }

  /** One line on every client's stderr, prefixed with the router's name. */
  notice(text: string, parentHeader: object = {}): void {
    this.broadcast('stream', streamContent('stderr', notice(text)), parentHeader);
  }

  /**
   * Answer a request no backend will answer. kernel_info gets a reply that lets the client
   * connect and shows the reason in its banner; other requests an error reply. Messages that
   * are not requests, and stdin (a client's input_reply), get nothing.
   */
  failed(channel: RequestChannel, msg: WireMessage, reason: string): void {
    const type = msg.msgType;
    if (!type.endsWith('_request') || channel === 'stdin') return;
    const replyType = type.replace(/_request$/, '_reply');
    if (type === 'kernel_info_request') {
      this.#withStatus(msg, () => this.reply(channel, msg, replyType, fleetKernelInfo(`llmspell-fleet: ${reason}`)));
      return;
    }
    const error = errorReplyContent('FleetError', reason);
    this.#withStatus(msg, () => {
      // A notebook shows a cell's iopub output, not its reply: the error must be there too.
      if (type === 'execute_request') this.broadcast('error', error, msg.header);
      const count = type === 'execute_request' ? { execution_count: this.nextExecutionCount() } : {};
      this.reply(channel, msg, replyType, { ...error, ...count });
    });
  }

  /** A client's request over the size limit: it was not relayed, so its sender is told why. */
  requestTooLarge(channel: RequestChannel, msg: WireMessage, bytes: number): void {
    this.failed(channel, msg, this.#tooLarge(`this ${msg.msgType}`, bytes) + ' It was not sent; send less.');
  }

  /**
   * The backend said something too large to relay. Output is replaced by a notice in the same
   * cell; a reply is replaced by an error reply, so the client is not left waiting.
   */
  backendTooLarge(channel: RequestChannel | 'iopub', msg: WireMessage, bytes: number): void {
    const what = this.#tooLarge(`an ${msg.msgType} from the backend`, bytes) + ' It was dropped.';
    this.options.logger.warn({ channel, msgType: msg.msgType, bytes }, 'oversized backend message dropped');
    if (channel === 'iopub') return this.notice(what, msg.parentHeader);
    if (channel === 'stdin' || !msg.msgType.endsWith('_reply')) return;
    const content = { ...errorReplyContent('FleetError', what), ...(msg.msgType === 'execute_reply' ? { execution_count: this.nextExecutionCount() } : {}) };
    this.options.sink.send(channel, createMessage({ msgType: msg.msgType, content, session: this.options.session, parentHeader: msg.parentHeader, identities: msg.identities }));
  }

  #tooLarge(what: string, bytes: number): string {
    return tooLarge(what, bytes, this.options.maxMessageBytes);
  }

  /** busy/idle around a reply the router makes itself, as a kernel would: clients wait for idle. */
  #withStatus(parent: WireMessage, body: () => void): void {
    this.broadcast('status', statusContent('busy'), parent.header);
    body();
    this.broadcast('status', statusContent('idle'), parent.header);
  }
}
