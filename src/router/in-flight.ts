/**
 * Requests a backend has taken and not answered yet, by msg_id: the router answers them itself
 * if the backend dies, an interrupt is for the cells among them, and those cells are named to
 * whoever sees their output after the router leaves. Only requests a reply is due for are
 * tracked, and the table is bounded so that a backend that never replies (llmspell today)
 * cannot grow it without end.
 */
import type { WireMessage } from '../wire/codec.js';
import type { RequestChannel } from './backend-link.js';

export class InFlightRequests {
  /** `sentAt` (performance.now(), execute_request only) times the execution. */
  readonly #requests = new Map<string, { channel: RequestChannel; msg: WireMessage; sentAt: number | undefined }>();

  /** A request went to the backend: kept if a reply is due for it. */
  sent(channel: RequestChannel, msg: WireMessage): void {
    if (channel !== 'stdin' && msg.msgType.endsWith('_request')) {
      if (this.#requests.size >= 10_000) this.#requests.delete(this.#requests.keys().next().value as string);
      this.#requests.set(msg.msgId, { channel, msg, sentAt: msg.msgType === 'execute_request' ? performance.now() : undefined });
    }
  }

  /** True while code sent through here runs there: what an interrupt may stop. */
  get running(): boolean {
    for (const { msg } of this.#requests.values()) if (msg.msgType === 'execute_request') return true;
    return false;
  }

  /** The header of the cell running there now: the oldest execute_request not answered (a kernel runs one at a time). */
  get runningCell(): object | undefined {
    for (const { msg } of this.#requests.values()) if (msg.msgType === 'execute_request') return msg.header;
    return undefined;
  }

  /** The requests still unanswered, oldest first. */
  messages(): WireMessage[] {
    return [...this.#requests.values()].map((r) => r.msg);
  }

  /** Hand back everything unanswered and forget it. */
  takeAll(): { channel: RequestChannel; msg: WireMessage }[] {
    const all = [...this.#requests.values()];
    this.#requests.clear();
    return all;
  }

  /**
   * A reply (or what stands in for one) ends its request's time in flight. For an
   * execute_reply to a tracked execute_request: how long the cell ran, in seconds.
   */
  settle(channel: RequestChannel | 'iopub', msg: WireMessage): number | undefined {
    if (channel === 'iopub' || channel === 'stdin' || !msg.msgType.endsWith('_reply')) return undefined;
    const parent = msg.parentHeader.msg_id;
    if (parent === undefined) return undefined;
    const sentAt = this.#requests.get(parent)?.sentAt;
    this.#requests.delete(parent);
    return sentAt !== undefined && msg.msgType === 'execute_reply' ? (performance.now() - sentAt) / 1000 : undefined;
  }
}
