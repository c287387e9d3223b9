/**
 * When a backend's silent heartbeat is worth telling clients about. Silence while one of this
 * router's cells runs is expected of kernels that serve hb on their only thread (llmspell), so
 * it is reported only when nothing of ours is running there; once reported, its return is
 * reported too. A dead process is reported by `exited` (at once, or within the fleet's 1 s
 * poll), before this.
 */
export class HeartbeatSilence {
  /** Clients were told the heartbeat went silent: they are told when it comes back. */
  #reported = false;

  /** A new lease: nothing told of it yet. */
  reset(): void {
    this.#reported = false;
  }

  /** What clients are to be told now, if anything. */
  change(responsive: boolean, running: () => boolean): 'silent' | 'back' | undefined {
    if (!responsive && !this.#reported && !running()) {
      this.#reported = true;
      return 'silent';
    } else if (responsive && this.#reported) {
      this.#reported = false;
      return 'back';
    }
    return undefined;
  }
}
