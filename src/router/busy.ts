/**
 * Whether a backend is executing something, read from its iopub `status` messages: busy from
 * the first `busy` until every request that went busy has gone `idle` again. Kept per parent
 * msg_id because statuses interleave (a kernel_info on the control thread goes busy and idle
 * while a cell still runs on shell); a `starting` status means a new kernel with nothing running.
 */
export class BusyTracker {
  readonly #running = new Set<string>();

  constructor(private readonly max = 1000) {}

  get busy(): boolean {
    return this.#running.size > 0;
  }

  /** Returns true when `busy` changed. */
  status(parentMsgId: string | undefined, executionState: unknown): boolean {
    const before = this.busy;
    const id = parentMsgId ?? '';
    if (executionState === 'busy') {
      // Bounded: an idle that never comes (lost with a dying kernel) must not grow it forever.
      if (this.#running.size >= this.max) this.#running.delete(this.#running.values().next().value as string);
      this.#running.add(id);
    } else if (executionState === 'idle') {
      this.#running.delete(id);
    } else if (executionState === 'starting') {
      this.#running.clear();
    }
    return before !== this.busy;
  }
}
