/**
 * When a taken spare's replacement starts (issue #12): once the taken spare's first cell is
 * done (its router reports idle), or REPLACE_AFTER_MS after the hand-out. A new kernel starting
 * beside that first cell would slow it down on a small machine, and the first cell is what the
 * pool is for. Until then the replacement holds its place in the pool's plan.
 */
const REPLACE_AFTER_MS = 5000;

export class SpareReplacements {
  /** Taken spares whose replacement waits for their first cell, by kernel id, with their pool key. */
  readonly #waiting = new Map<string, { key: string; timer: NodeJS.Timeout }>();

  /** `due` runs REPLACE_AFTER_MS from now unless the first cell ends first (see done). */
  wait(kernelId: string, key: string, due: () => void): void {
    const timer = setTimeout(due, REPLACE_AFTER_MS);
    timer.unref();
    this.#waiting.set(kernelId, { key, timer });
  }

  /** `kernelId`'s cell is done: true if it was a spare just taken (its replacement is due now). */
  done(kernelId: string): boolean {
    const waiting = this.#waiting.get(kernelId);
    if (waiting === undefined) return false;
    clearTimeout(waiting.timer);
    this.#waiting.delete(kernelId);
    return true;
  }

  /** The pool key of each replacement still waiting. */
  keys(): string[] {
    return [...this.#waiting.values()].map(({ key }) => key);
  }

  close(): void {
    for (const { timer } of this.#waiting.values()) clearTimeout(timer);
    this.#waiting.clear();
  }
}
