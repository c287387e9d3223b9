/**
 * A cell that waits for its backend to start says so in the cell: an updatable display
 * ("starting javascript/openai backend…"), replaced once the backend is ready by how long it
 * took, or by why it could not start. display_data with a transient display_id, then
 * update_display_data with the same id, both with the cell's request as parent: JupyterLab
 * updates it in place, jupyter console prints the first text. Cells for a ready backend get
 * nothing.
 */
import { randomUUID } from 'node:crypto';
import type { WireMessage } from '../wire/codec.js';

/** Pure texts, one place, every backend named the same way (requirementKey). */
export function startingText(key: string): string {
  return `starting ${key} backend…`;
}

export function startedText(key: string, ms: number): string {
  return `${key} backend started in ${(ms / 1000).toFixed(1)} s`;
}

export function startFailedText(key: string, reason: string): string {
  return `${key} backend could not start: ${reason.split('\n', 1)[0]}`;
}

/** What progress reads of a slot (BackendSlot satisfies it). */
export interface StartingSlot {
  readonly key: string;
  readonly state: string;
  readonly failure: string | undefined;
  /** When it began to start (ms since epoch). */
  readonly startedAt: number;
  /** Resolves once the slot is ready or has failed. */
  readonly settled: Promise<void>;
}

export interface StartProgressOptions {
  broadcast(msgType: 'display_data' | 'update_display_data', content: object, parentHeader: object): void;
  now?: () => number;
}

export class StartProgress {
  readonly #open = new Map<StartingSlot, { displayId: string; parent: object }[]>();

  constructor(private readonly options: StartProgressOptions) {}

  /** `request` (a cell) waits for `slot`, which is starting: show it in that cell. */
  waiting(slot: StartingSlot, request: WireMessage): void {
    const displayId = `llmspell-fleet-start-${randomUUID()}`;
    const parent = request.header;
    this.options.broadcast('display_data', display(startingText(slot.key), displayId), parent);
    let open = this.#open.get(slot);
    if (open === undefined) {
      this.#open.set(slot, (open = []));
      void slot.settled.then(() => this.settled(slot));
    }
    open.push({ displayId, parent });
  }

  /**
   * The slot is ready or failed. The router calls it on failure before it answers the waiting
   * cells with errors, so the update lands while their clients still listen; `settled` calls it
   * again, harmlessly.
   */
  settled(slot: StartingSlot): void {
    const open = this.#open.get(slot);
    if (open === undefined) return;
    this.#open.delete(slot);
    const text =
      slot.state === 'ready' ? startedText(slot.key, (this.options.now ?? Date.now)() - slot.startedAt) : startFailedText(slot.key, slot.failure ?? 'unknown reason');
    for (const { displayId, parent } of open) this.options.broadcast('update_display_data', display(text, displayId), parent);
  }
}

function display(text: string, displayId: string): object {
  return { data: { 'text/plain': text }, metadata: {}, transient: { display_id: displayId } };
}
