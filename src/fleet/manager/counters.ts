/**
 * What happened in the fleet since the manager started, as plain counts (the metrics layer
 * turns them into Prometheus counters; the fleet does not know prom-client).
 */

/** refused: max_backends was reached, no process was started. */
export type SpawnOutcome = 'ok' | 'failed' | 'refused';

/** Upper bounds of the spawn duration histogram's buckets, seconds: a local process to a pod pulling its image. */
export const SPAWN_BUCKETS_SECONDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] as const;

/** A histogram kept as plain counts: `buckets[i]` counts values <= SPAWN_BUCKETS_SECONDS[i] (and above the one before); the last is +Inf. */
export interface DurationCounts {
  buckets: number[];
  sumSeconds: number;
}

export interface FleetCounts {
  spawns: Record<SpawnOutcome, number>;
  /** How long the starts that got a process took, launch to ready or to failure, by outcome. */
  spawnSeconds: Record<'ok' | 'failed', DurationCounts>;
  restarts: number;
  /** By reason as the backend's exit says it: exited, signalled, stopped, ... */
  exits: Record<string, number>;
}

export class FleetCounters {
  readonly #counts: FleetCounts = { spawns: { ok: 0, failed: 0, refused: 0 }, spawnSeconds: { ok: noDurations(), failed: noDurations() }, restarts: 0, exits: {} };

  /** `seconds`: how long the start took (none for a refusal, which starts nothing). */
  spawned(outcome: SpawnOutcome, seconds?: number): void {
    this.#counts.spawns[outcome]++;
    if (outcome === 'refused' || seconds === undefined) return;
    const d = this.#counts.spawnSeconds[outcome];
    d.buckets[bucketIndex(seconds)]!++;
    d.sumSeconds += seconds;
  }

  restarted(): void {
    this.#counts.restarts++;
  }

  exited(reason: string): void {
    this.#counts.exits[reason] = (this.#counts.exits[reason] ?? 0) + 1;
  }

  snapshot(): FleetCounts {
    const copy = (d: DurationCounts): DurationCounts => ({ buckets: [...d.buckets], sumSeconds: d.sumSeconds });
    const { spawnSeconds } = this.#counts;
    return { spawns: { ...this.#counts.spawns }, spawnSeconds: { ok: copy(spawnSeconds.ok), failed: copy(spawnSeconds.failed) }, restarts: this.#counts.restarts, exits: { ...this.#counts.exits } };
  }
}

function noDurations(): DurationCounts {
  return { buckets: new Array<number>(SPAWN_BUCKETS_SECONDS.length + 1).fill(0), sumSeconds: 0 };
}

/** Pure: the bucket a duration falls in (the first bound it does not exceed; the last one is +Inf). */
export function bucketIndex(seconds: number): number {
  let i = 0;
  while (i < SPAWN_BUCKETS_SECONDS.length && seconds > SPAWN_BUCKETS_SECONDS[i]!) i++;
  return i;
}
