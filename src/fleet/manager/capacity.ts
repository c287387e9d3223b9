/**
 * max_backends (issue #10): how many backends the whole fleet may run at once. A start counts
 * from the moment it is decided, before its process exists, so that clients asking at the same
 * moment cannot overshoot: the manager checks and reserves in one synchronous step. Reaching a
 * running shared backend never counts; a restart keeps the place of the backend it replaces.
 */
import { FleetError } from '../../shared/errors.js';
import { requirementKey, type Requirement } from '../../shared/requirement.js';

/** One backend that holds a place, as a refusal names it. */
export interface CapacityHolder {
  /** Undefined for a start whose process does not exist yet. */
  kernelId?: string;
  requirement: Requirement;
  /** What `list` would say: starting, ready, busy, restarting, stopping. */
  state: string;
  clients: number;
}

/** A start that holds a place until its backend is in the fleet (then the backend holds it). */
export interface Reservation {
  readonly requirement: Requirement;
  /** A restart's: the place is the old backend's until that one has exited. */
  readonly replaces?: { readonly state: string };
  /** Set once the process runs and the fleet lists it. */
  spawned: boolean;
}

/** Pure: whether a reservation holds a place of its own now. */
export function reservationCounts(r: Reservation): boolean {
  return !r.spawned && (r.replaces === undefined || r.replaces.state === 'exited');
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Pure: "kernel 3f2a… (python/openai, ready, 1 client)". */
export function describeHolder(h: CapacityHolder): string {
  const what = `${requirementKey(h.requirement)}, ${h.state}, ${plural(h.clients, 'client')}`;
  return h.kernelId === undefined ? `a backend being started (${what})` : `kernel ${h.kernelId} (${what})`;
}

export interface CapacityCheck {
  /** max_backends; undefined: no limit. */
  max: number | undefined;
  /** How many places are held now (backends not yet exited, and reservations that count). */
  held: number;
}

/** Pure: true when one more start fits. */
export function hasRoom(check: CapacityCheck): boolean {
  return check.max === undefined || check.held < check.max;
}

/**
 * Pure: the error for a start that does not fit: the limit, who holds it, and what to do.
 * `source` is the fleet.toml the limit comes from.
 */
export function fleetFull(input: { max: number; holders: readonly CapacityHolder[]; requirement: Requirement; source?: string }): FleetError {
  const { max, holders, requirement } = input;
  const where = input.source ?? 'fleet.toml';
  const listed = holders.length > 0 ? holders.map(describeHolder).join('; ') : 'none listed';
  return new FleetError(
    'FLEET_FULL',
    `cannot start a ${requirementKey(requirement)} backend: the fleet already runs max_backends = ${max} ` +
      `(${plural(holders.length, 'backend')}: ${listed}). ` +
      `Stop one with \`llmspell-fleet stop ID\` (see \`llmspell-fleet list\`), or raise max_backends in ${where}`,
    {
      limit: max,
      requirement: { ...requirement },
      holders: holders.map((h) => ({ ...h, requirement: { ...h.requirement } })),
    },
  );
}

export interface FleetCapacityOptions {
  /** Backends in the fleet now that hold a place (every state but exited). */
  live(): number;
  /** The same backends as a refusal names them. */
  holders(): CapacityHolder[];
  /** A start was refused (for /metrics). */
  onRefused?(): void;
}

/** The places the fleet's starts hold, checked against max_backends. */
export class FleetCapacity {
  readonly #reservations = new Set<Reservation>();

  constructor(private readonly options: FleetCapacityOptions) {}

  /** True when one more start fits under `max` now. */
  fits(max: number | undefined): boolean {
    return hasRoom({ max, held: this.held() });
  }

  /** Places held now: live backends and the starts whose process is not in the fleet yet. */
  held(): number {
    return this.options.live() + [...this.#reservations].filter(reservationCounts).length;
  }

  /**
   * Synchronous on purpose: the check and the reservation are one step, so concurrent requests
   * cannot both see the last place free. A restart (`replaces`) takes over its old backend's
   * place and is never refused. Throws FLEET_FULL when there is no room.
   */
  reserve(input: { max: number | undefined; source?: string; requirement: Requirement; replaces?: Reservation['replaces'] }): Reservation {
    const { max, requirement, replaces } = input;
    if (replaces === undefined && max !== undefined && !hasRoom({ max, held: this.held() })) {
      this.options.onRefused?.();
      const starting = [...this.#reservations].filter(reservationCounts).map((r) => ({ requirement: r.requirement, state: 'starting', clients: 0 }));
      throw fleetFull({ max, holders: [...this.options.holders(), ...starting], requirement, source: input.source });
    }
    const reservation: Reservation = replaces === undefined ? { requirement, spawned: false } : { requirement, replaces, spawned: false };
    this.#reservations.add(reservation);
    return reservation;
  }

  /** The start ended (its backend is in the fleet, or it failed): the reservation holds nothing now. */
  release(reservation: Reservation): void {
    this.#reservations.delete(reservation);
  }
}
