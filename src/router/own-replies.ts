import type { Logger } from '../shared/log.js';
import { createMessage, type WireMessage } from '../wire/codec.js';
import type { RequestChannel } from './backend-link.js';
import { notice, tooLarge } from './notices.js';
import { statusContent, streamContent } from './replies.js';
import { SessionCounter, type ExecuteFlags } from './session-count.js';
import { answerHistory, type HistoryRequestContent } from './session-history.js';
import { unavailableReply } from './unavailable-replies.js';

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
  /** The session's execution count, shared with the cells the backends run. Default: a new one. */
  counter?: SessionCounter;
}

/** Distinct notices remembered for noticeOnce; beyond this the set starts over. */
const MAX_NOTICED = 100;

/**
 * Everything the router says in a kernel's place: error replies for requests no backend will
 * answer, stand-ins for replies too large to relay, notices on stderr, and the execution
 * count of the cells it answers itself. Each reply comes with the busy/idle statuses and iopub
 * output a kernel would send, so clients waiting for idle or for a cell's output see an end.
 */
export class RouterReplies {
  readonly counter: SessionCounter;
  readonly #noticed = new Set<string>();

  constructor(private readonly options: RouterRepliesOptions) {
    this.counter = options.counter ?? new SessionCounter();
  }

  /**
   * The session count of an execute_request the router answers itself (magics, errors): from
   * the same sequence as the cells the backends run; a request already given one keeps it.
   */
  executionCount(request: WireMessage): number {
    return this.counter.assign(request.msgId, this.#flags(request));
  }

  #flags(request: WireMessage): ExecuteFlags {
    try {
      const content = request.content<ExecuteFlags | null>();
      return typeof content === 'object' && content !== null ? content : {};
    } catch {
      // Not JSON: counted like a default request (the spec's defaults store history).
      return {};
    }
  }

  /** executionCount() for a cell the router runs itself from start to end (a magic): nothing is relayed for it, so nothing is tracked. */
  ownCellCount(request: WireMessage): number {
    const count = this.executionCount(request);
    this.counter.forget(request.msgId);
    return count;
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

  /** A new client subscribed: it has heard none of the notices so far. */
  forgetNotices(): void {
    this.#noticed.clear();
  }

  /** notice(), but once per distinct text for the session (a failing backend is retried on every keystroke). */
  noticeOnce(text: string): void {
    if (this.#noticed.has(text)) return;
    if (this.#noticed.size >= MAX_NOTICED) this.#noticed.clear();
    this.#noticed.add(text);
    this.notice(text);
  }

  /**
   * Answer a request no backend will answer, with the reply the spec allows for its type
   * (unavailable-replies.ts): kernel_info lets the client connect and shows the reason in its
   * banner, a cell gets an error (in the cell and in its execute_reply), completion, inspection,
   * history and the like get an empty answer. The reason goes to stderr with each failing cell,
   * and once per client for the rest (a console asks on every keystroke). Messages that are not
   * requests, and stdin (a client's input_reply), get nothing.
   */
  failed(channel: RequestChannel, msg: WireMessage, reason: string): void {
    if (channel === 'stdin') return;
    const answer = unavailableReply(msg.msgType, () => msg.content(), reason);
    if (answer.kind === 'none') return;
    this.#withStatus(msg, () => {
      if (answer.kind === 'reply') {
        // What a console sends while the user types must not repeat the reason at every key.
        if (msg.msgType !== 'kernel_info_request') this.noticeOnce(reason);
        return this.reply(channel, msg, answer.msgType, answer.content);
      }
      const flags = this.#flags(msg);
      const count = this.counter.assign(msg.msgId, flags);
      // silent=true: the spec forbids output on iopub; a client's own probe (VS Code's variables) is told once.
      if (flags.silent === true) {
        this.noticeOnce(reason);
      } else {
        // A cell is run on purpose: each one that fails says why, on stderr too.
        this.#noticed.add(reason);
        this.notice(reason);
        // A notebook shows a cell's iopub output, not its reply: the error must be there too.
        this.broadcast('error', answer.content, msg.header);
      }
      this.reply(channel, msg, 'execute_reply', { ...answer.content, execution_count: count });
    });
    this.counter.forget(msg.msgId);
  }

  /**
   * A history_request about this session, answered from the session's own record (numbered
   * with the session's counts); false when it is about earlier sessions, for a backend.
   */
  history(channel: RequestChannel, msg: WireMessage): boolean {
    let request: HistoryRequestContent;
    try {
      request = msg.content<HistoryRequestContent>() ?? {};
    } catch {
      return false;
    }
    const content = answerHistory(this.counter.history.entries, request);
    if (!content) return false;
    this.#withStatus(msg, () => this.reply(channel, msg, 'history_reply', content));
    return true;
  }

  /**
   * A usage_request answered by the router: `content` is the measurement, or an error reply
   * when there is none. Never a notice: the usage panel asks every few seconds.
   */
  usage(channel: RequestChannel, msg: WireMessage, content: object): void {
    this.#withStatus(msg, () => this.reply(channel, msg, 'usage_reply', content));
  }

  /** A client's request over the size limit: it was not relayed, so its sender is told why. */
  requestTooLarge(channel: RequestChannel, msg: WireMessage, bytes: number): void {
    this.failed(channel, msg, this.#tooLarge(`this ${msg.msgType}`, bytes) + ' It was not sent; send less.');
  }

  /**
   * The backend said something too large to relay. Output is replaced by a notice in the same
   * cell; a reply is replaced by the router's own (as in failed()), so the client is not left waiting.
   */
  backendTooLarge(channel: RequestChannel | 'iopub', msg: WireMessage, bytes: number): void {
    const what = this.#tooLarge(`an ${msg.msgType} from the backend`, bytes) + ' It was dropped.';
    this.options.logger.warn({ channel, msgType: msg.msgType, bytes }, 'oversized backend message dropped');
    if (channel === 'iopub') return this.notice(what, msg.parentHeader);
    if (channel === 'stdin' || !msg.msgType.endsWith('_reply')) return;
    // The request is gone (only its id is in the reply's parent): the reply is made without its content.
    const answer = unavailableReply(msg.msgType.replace(/_reply$/, '_request'), () => ({}), what);
    if (answer.kind === 'none') return;
    let content = answer.content;
    if (answer.kind === 'execute-error') {
      const parent = msg.parentHeader.msg_id;
      const count = parent === undefined ? undefined : this.counter.countFor(parent);
      if (parent !== undefined) this.counter.observe(parent, 'reply');
      content = { ...content, execution_count: count ?? this.counter.current };
    } else {
      this.noticeOnce(what);
    }
    const replyType = answer.kind === 'reply' ? answer.msgType : msg.msgType;
    this.options.sink.send(channel, createMessage({ msgType: replyType, content, session: this.options.session, parentHeader: msg.parentHeader, identities: msg.identities }));
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
