import type { LlmspellEvent } from './dialect.js';

/**
 * llmspell publishes a cell's print output from another task than its busy/idle, and now and
 * then the output comes after the cell's `idle` (seen with a real 0.14.1: about one cell in twenty
 * that prints). So each cell is followed by a fence, a second execution that prints a marker:
 * llmspell's print output stays in order, so once the marker is seen every earlier print is in.
 * The cell's `idle` is held until then. Pure: it reorders events and says when both are over.
 */
export class Fence {
  readonly code: string;
  #idles = 0;
  #heldIdle: LlmspellEvent | undefined;
  #markerSeen = false;

  constructor(readonly marker: string) {
    this.code = `print("${marker}")`;
  }

  /** Events for the cell, in the order it should see them; `over` once the fence has ended too. */
  accept(event: LlmspellEvent): { forward: LlmspellEvent[]; over: boolean } {
    const forward: LlmspellEvent[] = [];
    if (event.msgType === 'status' && event.content.execution_state === 'idle') {
      this.#idles += 1;
      // The cell's idle waits for the marker; the fence's own idle is not the cell's business.
      if (this.#idles === 1) this.#heldIdle = event;
    } else if (event.msgType === 'stream' && typeof event.content.text === 'string' && event.content.text.includes(this.marker)) {
      // Output printed just before the marker may share its message.
      const before = event.content.text.slice(0, event.content.text.indexOf(this.marker));
      if (before !== '') forward.push({ msgType: 'stream', content: { ...event.content, text: before } });
      this.#markerSeen = true;
    } else if (this.#idles === 0 || event.msgType === 'stream') {
      // Until the cell's idle everything is the cell's; after it, only late output is.
      forward.push(event);
    }
    if (this.#markerSeen && this.#heldIdle !== undefined) {
      forward.push(this.#heldIdle);
      this.#heldIdle = undefined;
    }
    return { forward, over: this.#idles >= 2 && this.#markerSeen };
  }

  /** Both executions are over but the marker has not come (yet): the caller may stop waiting. */
  get waitingForMarker(): boolean {
    return this.#idles >= 2 && !this.#markerSeen;
  }

  /** Stop waiting for the marker: the cell's held idle, if any. */
  giveUp(): LlmspellEvent[] {
    const held = this.#heldIdle;
    this.#heldIdle = undefined;
    this.#markerSeen = true;
    return held === undefined ? [] : [held];
  }
}

/** Fence marker lines other than `keep`, wherever they turn up (a late one after a fence that gave up): never shown. */
export function stripMarkers(text: string, prefix: string, keep?: string): string {
  return text.replace(new RegExp(`${prefix}[0-9a-f]+@@\\n?`, 'g'), (m) => (keep !== undefined && m.startsWith(keep) ? m : ''));
}
