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
  type RunningCell,
  RUNNING_CELLS_MAX,
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

/** Pure: the bytes an entry counts for: the entry as JSON, as the router receives it (the bound is also the answer's size). */
export function entryBytes(entry: DetachedEntry): number {
  return Buffer.byteLength(JSON.stringify(entry));
}

export class OutputBuffer {
  readonly #entries: { entry: DetachedEntry; bytes: number }[] = [];
  #bytes = 0;
  #dropped = 0;
  readonly #cells = new Map<string, RunningCell>();
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

  /** A cell that was running when the last client left; the newest RUNNING_CELLS_MAX are kept. */
  noteCell(cell: RunningCell): void {
    this.#cells.set(cell.msgId, { ...cell });
    if (this.#cells.size > RUNNING_CELLS_MAX) this.#cells.delete(this.#cells.keys().next().value as string);
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
    const out: DetachedOutput = { kernelId: this.kernelId, since: this.since, entries: this.#entries.map((e) => e.entry), dropped: this.#dropped, limits: { ...this.limits } };
    if (this.#cells.size > 0) out.cells = [...this.#cells.values()];
    return out;
  }
}
