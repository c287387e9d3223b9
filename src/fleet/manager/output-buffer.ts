/**
 * Pure: the output one backend printed while nobody was attached, bounded by count and bytes.
 * The oldest messages are dropped first and counted, so the next client sees the end of what
 * happened (usually what matters: the result, the error) and knows how much is missing.
 */
import {
  DETACHED_MSG_TYPES,
  type DetachedEntry,
  type DetachedLimits,
  type DetachedMsgType,
  type DetachedOutput,
  type HeldOutputSummary,
} from '../../shared/detached-output.js';

/** What the manager reads of one iopub message. */
export interface IopubSeen {
  msgType: string;
  parentHeader: { msg_id?: unknown; msg_type?: unknown; date?: unknown };
  content: Record<string, unknown>;
  at: number;
}

/**
 * Pure: the entry to keep for one iopub message, or undefined. A `status` is kept only when it
 * is a cell's final idle (busy and the statuses of other requests say nothing to a returning
 * user); comms, clear_output, iopub_welcome and the rest are not kept.
 */
export function entryOf(seen: IopubSeen): DetachedEntry | undefined {
  if (!(DETACHED_MSG_TYPES as readonly string[]).includes(seen.msgType)) return undefined;
  const msgType = seen.msgType as DetachedMsgType;
  const { msg_id: msgId, msg_type: parentType, date } = seen.parentHeader;
  if (msgType === 'status' && (seen.content.execution_state !== 'idle' || parentType !== 'execute_request')) return undefined;
  const entry: DetachedEntry = { msgType, at: seen.at, content: seen.content };
  if (typeof msgId === 'string') entry.parent = typeof date === 'string' ? { msgId, date } : { msgId };
  return entry;
}

/** Pure: the bytes an entry counts for (its content as JSON, what the router will receive). */
export function entryBytes(entry: DetachedEntry): number {
  return Buffer.byteLength(JSON.stringify(entry.content));
}

export class OutputBuffer {
  readonly #entries: { entry: DetachedEntry; bytes: number }[] = [];
  #bytes = 0;
  #dropped = 0;
  subscribed = false;

  constructor(
    readonly kernelId: string,
    readonly limits: DetachedLimits,
    readonly since: number,
  ) {}

  /** Keeps `entry`, dropping the oldest until both bounds hold; an entry larger than the byte bound alone is dropped. */
  add(entry: DetachedEntry): void {
    const bytes = entryBytes(entry);
    if (bytes > this.limits.bytes || this.limits.messages === 0) {
      this.#dropped++;
      return;
    }
    this.#entries.push({ entry, bytes });
    this.#bytes += bytes;
    while (this.#entries.length > this.limits.messages || this.#bytes > this.limits.bytes) {
      this.#bytes -= this.#entries.shift()!.bytes;
      this.#dropped++;
    }
  }

  /** A message that could not be kept at all (too large to even decode). */
  countDropped(): void {
    this.#dropped++;
  }

  get size(): number {
    return this.#entries.length;
  }

  summary(): HeldOutputSummary {
    const last = this.#entries.at(-1)?.entry;
    return {
      subscribed: this.subscribed,
      messages: this.#entries.length,
      bytes: this.#bytes,
      dropped: this.#dropped,
      finished: last?.msgType === 'status',
    };
  }

  output(): DetachedOutput {
    return { kernelId: this.kernelId, since: this.since, entries: this.#entries.map((e) => e.entry), dropped: this.#dropped, limits: { ...this.limits } };
  }
}
