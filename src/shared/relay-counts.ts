/**
 * What a router relays for one backend, counted where the messages pass (the router) and
 * reported to the fleet manager as deltas (issue #9): routers are short-lived, the manager's
 * totals are not. The relay's hot path only increments numbers in fixed typed arrays: no
 * allocation, no string keys per message. Drops and executions are rare next to messages and
 * use small records.
 *
 * hb has no counts: the router answers its clients' heartbeats itself and probes the backend's
 * on its own, so no heartbeat is ever relayed.
 */

export const RELAY_CHANNELS = ['shell', 'control', 'stdin', 'iopub'] as const;
export type RelayChannel = (typeof RELAY_CHANNELS)[number];
export const RELAY_DIRECTIONS = ['to_backend', 'to_client'] as const;
export type RelayDirection = (typeof RELAY_DIRECTIONS)[number];

/** Slot of (channel, direction) in the typed arrays: channel-major, direction-minor. */
export const TO_BACKEND: Readonly<Record<'shell' | 'control' | 'stdin', number>> = { shell: 0, control: 2, stdin: 4 };
export const TO_CLIENT: Readonly<Record<RelayChannel, number>> = { shell: 1, control: 3, stdin: 5, iopub: 7 };
const SLOTS = RELAY_CHANNELS.length * RELAY_DIRECTIONS.length;

export const EXECUTION_STATUSES = ['ok', 'error', 'aborted'] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/**
 * Upper bounds (seconds) of the execution-duration histogram's buckets, shared by the router
 * (which counts into them) and the manager (which exports them): a cell takes from a few
 * milliseconds to hours.
 */
export const EXECUTION_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] as const;

/** A drop reason as a label value: the codes the router uses (BAD_SIGNATURE, QUEUE_FULL, ...). */
export const DROP_REASON = /^[A-Z][A-Z0-9_]{0,63}$/;
/** Distinct reasons one report may carry; more, or one that is not a code, count as OTHER. */
export const DROP_REASONS_MAX = 32;

/** One relayed (channel, direction) with its counts since the last report. */
export interface RelayedDelta {
  channel: RelayChannel;
  direction: RelayDirection;
  messages: number;
  bytes: number;
}

/** What changed since the last report; only what is non-zero is present. */
export interface RelayDelta {
  relayed?: RelayedDelta[];
  /** Messages dropped, by reason (BAD_SIGNATURE, TOO_LARGE, ...). */
  dropped?: Record<string, number>;
  /** Executions that ended with a reply, by its status. */
  executions?: Partial<Record<ExecutionStatus, number>>;
  /**
   * Their durations (execute_request sent to execute_reply relayed): `buckets[i]` counts the
   * ones in (bound[i-1], bound[i]], the last entry those above the last bound. Not cumulative.
   */
  durations?: { buckets: number[]; sumSeconds: number };
}

/** Pure: the (channel, direction) of a typed-array slot. */
export function slotLabels(slot: number): { channel: RelayChannel; direction: RelayDirection } {
  return { channel: RELAY_CHANNELS[slot >> 1]!, direction: RELAY_DIRECTIONS[slot & 1]! };
}

/** Pure: the histogram bucket a duration falls in (the last one is +Inf). */
export function bucketOf(seconds: number): number {
  let i = 0;
  while (i < EXECUTION_BUCKETS_SECONDS.length && seconds > EXECUTION_BUCKETS_SECONDS[i]!) i++;
  return i;
}

/** Pure: an execute_reply's status as counted; anything not in the spec counts as an error. */
export function executionStatus(status: unknown): ExecutionStatus {
  return status === 'ok' || status === 'aborted' ? status : 'error';
}

export class RelayCounts {
  readonly #messages = new Float64Array(SLOTS);
  readonly #bytes = new Float64Array(SLOTS);
  #dropped: Record<string, number> = {};
  #executions: Partial<Record<ExecutionStatus, number>> = {};
  readonly #buckets = new Float64Array(EXECUTION_BUCKETS_SECONDS.length + 1);
  #sumSeconds = 0;
  #dirty = false;

  /** The hot path: one message of `bytes` through `slot` (TO_BACKEND / TO_CLIENT). */
  relayed(slot: number, bytes: number): void {
    this.#messages[slot] = this.#messages[slot]! + 1;
    this.#bytes[slot] = this.#bytes[slot]! + bytes;
    this.#dirty = true;
  }

  dropped(reason: string): void {
    // Label values: a reason that is not a code (or one too many) must not cost the whole report its validity.
    const known = this.#dropped[reason] !== undefined || (DROP_REASON.test(reason) && Object.keys(this.#dropped).length < DROP_REASONS_MAX - 1);
    const key = known ? reason : 'OTHER';
    this.#dropped[key] = (this.#dropped[key] ?? 0) + 1;
    this.#dirty = true;
  }

  executed(status: ExecutionStatus, seconds: number): void {
    this.#executions[status] = (this.#executions[status] ?? 0) + 1;
    const bucket = bucketOf(seconds);
    this.#buckets[bucket] = this.#buckets[bucket]! + 1;
    this.#sumSeconds += seconds;
    this.#dirty = true;
  }

  /** True when something was counted since the last take. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /** What was counted since the last take (undefined: nothing), and start again from zero. */
  take(): RelayDelta | undefined {
    if (!this.#dirty) return undefined;
    this.#dirty = false;
    const delta: RelayDelta = {};
    const relayed: RelayedDelta[] = [];
    for (let slot = 0; slot < SLOTS; slot++) {
      const messages = this.#messages[slot]!;
      if (messages === 0) continue;
      relayed.push({ ...slotLabels(slot), messages, bytes: this.#bytes[slot]! });
    }
    this.#messages.fill(0);
    this.#bytes.fill(0);
    if (relayed.length > 0) delta.relayed = relayed;
    if (Object.keys(this.#dropped).length > 0) delta.dropped = this.#dropped;
    this.#dropped = {};
    if (Object.keys(this.#executions).length > 0) {
      delta.executions = this.#executions;
      delta.durations = { buckets: [...this.#buckets], sumSeconds: this.#sumSeconds };
    }
    this.#executions = {};
    this.#buckets.fill(0);
    this.#sumSeconds = 0;
    return delta;
  }

  /** A delta that could not be sent is counted again, so the next report carries it. */
  restore(delta: RelayDelta): void {
    for (const r of delta.relayed ?? []) {
      const slot = RELAY_CHANNELS.indexOf(r.channel) * 2 + RELAY_DIRECTIONS.indexOf(r.direction);
      this.#messages[slot] = this.#messages[slot]! + r.messages;
      this.#bytes[slot] = this.#bytes[slot]! + r.bytes;
    }
    for (const [reason, n] of Object.entries(delta.dropped ?? {})) this.#dropped[reason] = (this.#dropped[reason] ?? 0) + n;
    for (const [status, n] of Object.entries(delta.executions ?? {}) as [ExecutionStatus, number][]) this.#executions[status] = (this.#executions[status] ?? 0) + n;
    delta.durations?.buckets.forEach((n, i) => (this.#buckets[i] = this.#buckets[i]! + n));
    this.#sumSeconds += delta.durations?.sumSeconds ?? 0;
    this.#dirty = true;
  }
}
