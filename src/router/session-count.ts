import type { WireMessage } from '../wire/codec.js';
import { SessionHistory } from './session-history.js';

/**
 * One execution count for the router's session, whichever backend (or the router itself) runs
 * a cell. Each backend keeps counting on its own; the router gives every execute_request a
 * session count when it dispatches it (not when a backend answers: cells in two backends may
 * run at once, and run-all must read 1, 2, 3...) and puts that count in the messages about
 * that request that carry one. Pure bookkeeping: no sockets, no clock.
 */

/** The content fields of an execute_request that decide whether it takes a new count. */
export interface ExecuteFlags {
  silent?: unknown;
  store_history?: unknown;
  /** Recorded in the session's history when the request stores history. */
  code?: unknown;
}

/**
 * The messaging spec's rule (execute_request, "Execution counter"): the counter counts requests
 * with store_history=True; store_history defaults to `not silent`, and silent=True forces it
 * to False. ipykernel 7.4 does exactly this: kernelbase.execute_request reads
 * `store_history = content.get("store_history", not silent)`, and IPython's run_cell only
 * does `execution_count += 1` when store_history is true.
 */
export function storesHistory(flags: ExecuteFlags): boolean {
  if (flags.silent === true) return false;
  return typeof flags.store_history === 'boolean' ? flags.store_history : true;
}

/** The message types that carry an execution_count the client shows (spec: execute_input, execute_result, execute_reply); error only if a kernel adds one. */
const COUNTED = new Set(['execute_input', 'execute_result', 'execute_reply', 'error']);

interface Tracked {
  count: number;
  replied: boolean;
  idle: boolean;
}

export interface SessionCounterOptions {
  /** Requests tracked at most; the oldest is forgotten beyond it (a backend that never answers). Default 10 000. */
  maxTracked?: number;
  /** Cells kept in the session's history (the oldest are forgotten). Default 10 000. */
  maxHistory?: number;
}

export class SessionCounter {
  #count = 0;
  /** execute_request msg_id -> its session count, until its reply and its idle have passed. */
  readonly #byRequest = new Map<string, Tracked>();
  readonly #maxTracked: number;
  /** The code of each cell that took a count, under that count. */
  readonly history: SessionHistory;

  constructor(options: SessionCounterOptions = {}) {
    this.#maxTracked = options.maxTracked ?? 10_000;
    this.history = new SessionHistory(options.maxHistory);
  }

  /** The last count given out (0 before the first cell). */
  get current(): number {
    return this.#count;
  }

  /** Requests whose messages are still being rewritten. */
  get tracked(): number {
    return this.#byRequest.size;
  }

  /**
   * The session count of an execute_request, given when the router dispatches it. A request
   * that stores no history takes none and reads the count as it stands: the spec says its
   * execute_reply carries "the current value of the counter" (ipykernel: shell.execution_count - 1).
   * The same msg_id asked again (a request the router then answers itself) keeps its count.
   */
  assign(msgId: string, flags: ExecuteFlags): number {
    const known = this.#byRequest.get(msgId);
    if (known) return known.count;
    const stored = storesHistory(flags);
    const count = stored ? ++this.#count : this.#count;
    if (this.#byRequest.size >= this.#maxTracked) this.#byRequest.delete(this.#byRequest.keys().next().value as string);
    this.#byRequest.set(msgId, { count, replied: false, idle: false });
    if (stored && typeof flags.code === 'string') this.history.record(count, flags.code);
    return count;
  }

  /** The session count of a request still tracked. */
  countFor(msgId: string): number | undefined {
    return this.#byRequest.get(msgId)?.count;
  }

  /** The request's reply, or its idle status, has passed; both together end its tracking. */
  observe(msgId: string, event: 'reply' | 'idle'): void {
    const tracked = this.#byRequest.get(msgId);
    if (!tracked) return;
    if (event === 'reply') tracked.replied = true;
    else tracked.idle = true;
    if (tracked.replied && tracked.idle) this.#byRequest.delete(msgId);
  }

  /** The router answered the request itself (reply and idle sent): nothing more will come. */
  forget(msgId: string): void {
    this.#byRequest.delete(msgId);
  }

  /**
   * A backend's message on its way to the clients, with the session count in place of the
   * backend's own. Only messages about a tracked request are looked at, and of those only the
   * counted types and status are parsed: everything else passes as the same object.
   */
  relay(msg: WireMessage): WireMessage {
    if (this.#byRequest.size === 0) return msg;
    const parent = msg.parentHeader.msg_id;
    if (parent === undefined) return msg;
    const tracked = this.#byRequest.get(parent);
    if (!tracked) return msg;
    const type = msg.msgType;
    if (type === 'status') {
      if (objectContent(msg)?.execution_state === 'idle') this.observe(parent, 'idle');
      return msg;
    }
    if (!COUNTED.has(type)) return msg;
    if (type === 'execute_reply') this.observe(parent, 'reply');
    const content = objectContent(msg);
    // Content that is not a JSON object passes as the backend sent it, as every message did before counts.
    if (content === undefined || !('execution_count' in content) || content.execution_count === tracked.count) return msg;
    return msg.withContent({ ...content, execution_count: tracked.count });
  }
}

function objectContent(msg: WireMessage): Record<string, unknown> | undefined {
  try {
    const content = msg.content<unknown>();
    return typeof content === 'object' && content !== null && !Array.isArray(content) ? (content as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
