/**
 * A router's busy/idle reports to the fleet manager, coalesced. Routers talk to backends
 * directly, so only they see a backend's iopub; they tell the manager on the connection they
 * already hold for their attachment. Each change is not a message: the latest state per backend
 * is sent once per `delayMs` window and only when it differs from what was sent, so a burst of
 * short requests (completions while typing, a flood of cells) costs at most one line per window.
 * A busy that is over within one window is still told, as busy and idle in one go (two lines):
 * idle culling (issue #10) restarts a backend's idle clock at each busy → idle, and a quick
 * cell is a cell that ran.
 */
export type ExecutionState = 'busy' | 'idle';

export interface StateReportsOptions {
  /** Sends one report; false when it could not be sent (no manager connection now). */
  send(kernelId: string, state: ExecutionState): boolean;
  delayMs?: number;
  /** Injectable for tests; default an unref'd setTimeout. */
  schedule?: (run: () => void, delayMs: number) => () => void;
}

export class StateReports {
  readonly #latest = new Map<string, ExecutionState>();
  readonly #sent = new Map<string, ExecutionState>();
  /** Backends noted busy since the last flush. */
  readonly #ran = new Set<string>();
  #cancel: (() => void) | undefined;

  constructor(private readonly options: StateReportsOptions) {}

  note(kernelId: string, state: ExecutionState): void {
    this.#latest.set(kernelId, state);
    if (state === 'busy') this.#ran.add(kernelId);
    if (this.#cancel !== undefined) return;
    const schedule = this.options.schedule ?? scheduleUnref;
    this.#cancel = schedule(() => this.flush(), this.options.delayMs ?? 50);
  }

  flush(): void {
    this.#cancel = undefined;
    for (const [kernelId, state] of this.#latest) {
      // Nothing sent yet means the manager assumes idle.
      const sent = this.#sent.get(kernelId) ?? 'idle';
      if (sent !== state) {
        if (this.options.send(kernelId, state)) this.#sent.set(kernelId, state);
      } else if (state === 'idle' && this.#ran.has(kernelId) && this.options.send(kernelId, 'busy')) {
        if (!this.options.send(kernelId, 'idle')) this.#sent.set(kernelId, 'busy');
      }
    }
    this.#latest.clear();
    this.#ran.clear();
  }

  /** A new manager knows nothing of what was said to the old one: say busy again. */
  resend(): void {
    const busy = [...this.#sent].filter(([, s]) => s === 'busy').map(([k]) => k);
    this.#sent.clear();
    for (const kernelId of busy) if (!this.#latest.has(kernelId)) this.note(kernelId, 'busy');
  }

  forget(kernelId: string): void {
    this.#latest.delete(kernelId);
    this.#ran.delete(kernelId);
    this.#sent.delete(kernelId);
  }

  close(): void {
    this.#cancel?.();
    this.#cancel = undefined;
    this.#latest.clear();
    this.#ran.clear();
  }
}

function scheduleUnref(run: () => void, delayMs: number): () => void {
  const timer = setTimeout(run, delayMs);
  timer.unref();
  return () => clearTimeout(timer);
}
