import type { LlmspellLink } from './link.js';

export interface HeartbeatWatchOptions {
  /** The link to ping, or undefined while llmspell is busy, starting or gone (no ping then). */
  idleLink(): LlmspellLink | undefined;
  onSilent(): void;
  onAnswering(): void;
  intervalMs?: number;
  timeoutMs?: number;
  /** Consecutive unanswered pings before llmspell counts as silent. */
  misses?: number;
}

/**
 * llmspell's heartbeat is silent whenever a cell runs, so it is only asked while llmspell is
 * idle; an idle llmspell that stops answering is hung (stopped, deadlocked). The adapter answers
 * its clients' heartbeat itself, so without this nobody would notice.
 */
export class HeartbeatWatch {
  #timer: NodeJS.Timeout | undefined;
  #missed = 0;
  #silent = false;
  #pinging = false;

  constructor(private readonly options: HeartbeatWatchOptions) {}

  start(): void {
    this.#timer ??= setInterval(() => void this.#tick(), this.options.intervalMs ?? 2000);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    const link = this.options.idleLink();
    if (link === undefined || this.#pinging) return;
    this.#pinging = true;
    const answered = await link.ping(this.options.timeoutMs ?? 1000).finally(() => (this.#pinging = false));
    // A cell may have started while we waited: its silence says nothing.
    if (this.options.idleLink() !== link) return;
    if (answered) {
      this.#missed = 0;
      if (this.#silent) {
        this.#silent = false;
        this.options.onAnswering();
      }
      return;
    }
    this.#missed += 1;
    if (!this.#silent && this.#missed >= (this.options.misses ?? 3)) {
      this.#silent = true;
      this.options.onSilent();
    }
  }
}
