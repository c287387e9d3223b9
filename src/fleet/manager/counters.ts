/**
 * What happened in the fleet since the manager started, as plain counts (the metrics layer
 * turns them into Prometheus counters; the fleet does not know prom-client).
 */

/** refused: max_backends was reached, no process was started. */
export type SpawnOutcome = 'ok' | 'failed' | 'refused';

export interface FleetCounts {
  spawns: Record<SpawnOutcome, number>;
  restarts: number;
  /** By reason as the backend's exit says it: exited, signalled, stopped, ... */
  exits: Record<string, number>;
}

export class FleetCounters {
  readonly #counts: FleetCounts = { spawns: { ok: 0, failed: 0, refused: 0 }, restarts: 0, exits: {} };

  spawned(outcome: SpawnOutcome): void {
    this.#counts.spawns[outcome]++;
  }

  restarted(): void {
    this.#counts.restarts++;
  }

  exited(reason: string): void {
    this.#counts.exits[reason] = (this.#counts.exits[reason] ?? 0) + 1;
  }

  snapshot(): FleetCounts {
    return { spawns: { ...this.#counts.spawns }, restarts: this.#counts.restarts, exits: { ...this.#counts.exits } };
  }
}
