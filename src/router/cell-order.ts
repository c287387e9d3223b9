/**
 * Cells the router has handed to backends and not yet seen end. A kernel runs a client's cells
 * in order; the router answers `%llmspell status` and `list` itself, and answered at once they
 * overtook the cells sent before them (JupyterLab's Run All sends every cell at once), so status
 * named a backend "starting" that the cell above was waiting for and then printed from. Those
 * magics wait here for the cells before them to end.
 *
 * A cell ends with its idle status (every kernel sends one after the reply, and the router
 * sends one for each reply it makes itself): after the reply, so the state a magic reads then
 * includes the backend's return to idle.
 */
export class CellOrder {
  readonly #open = new Map<string, { ended: Promise<void>; end: () => void }>();

  constructor(private readonly max = 10_000) {}

  /** True if `msgId` is a cell that has not ended: cheap, so callers ask before parsing a status. */
  has(msgId: string | undefined): boolean {
    return msgId !== undefined && this.#open.has(msgId);
  }

  started(msgId: string): void {
    if (this.#open.has(msgId)) return;
    // Bounded: a backend that never ends its cells must not grow this forever; the oldest is let go.
    if (this.#open.size >= this.max) this.ended(this.#open.keys().next().value as string);
    let end: () => void = () => undefined;
    const ended = new Promise<void>((resolve) => (end = resolve));
    this.#open.set(msgId, { ended, end });
  }

  ended(msgId: string | undefined): void {
    if (msgId === undefined) return;
    const cell = this.#open.get(msgId);
    if (cell === undefined) return;
    this.#open.delete(msgId);
    cell.end();
  }

  /** Resolves once every cell started before this call has ended. */
  earlier(): Promise<void> {
    return Promise.all([...this.#open.values()].map((c) => c.ended)).then(() => undefined);
  }
}
