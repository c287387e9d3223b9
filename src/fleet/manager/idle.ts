/**
 * When an idle manager exits: nothing holds it (no backend, no backend being started, no client
 * connection, no request being answered) for manager_idle_seconds. The decision is pure, over
 * counts the manager reads from its state; HTTP API requests in flight are one. Spares of the
 * pool (issue #12) are not: they wait for requests that only a running manager can serve, so a
 * manager that holds nothing else exits idle and stops them on the way (server.ts). 0 seconds
 * means the manager never exits on its own.
 */

/** What the manager holds right now; every count that is not 0 keeps it running. */
export interface ManagerHolds {
  /** Backends in any state but exited (starting, ready, stopping: stopping ones still need us); spares excepted. */
  backends: number;
  /** Backend starts (and restarts) under way whose process may not be known yet. */
  starts: number;
  /** Open connections: routers (whose connection is their lease) and CLI commands. */
  connections: number;
  /** Requests being answered, even for a client that has gone meanwhile. */
  requests: number;
  /** HTTP API requests being answered, open event and log streams included. */
  http: number;
}

/** Pure: the names of what holds the manager (for the log); empty when nothing does. */
export function holders(holds: ManagerHolds): string[] {
  return (Object.keys(holds) as (keyof ManagerHolds)[]).filter((k) => holds[k] > 0).map((k) => `${holds[k]} ${k}`);
}

export type IdleVerdict =
  /** Something holds the manager; the idle clock is reset. */
  | { action: 'held'; by: string[] }
  /** Idle since `idleSince`; look again in `inMs`. */
  | { action: 'wait'; idleSince: number; inMs: number }
  /** Idle for the whole of manager_idle_seconds: exit. */
  | { action: 'exit'; idleSince: number }
  /** manager_idle_seconds = 0: never exit on its own. */
  | { action: 'never' };

/**
 * Pure: the next step of the idle clock. `idleSince` is when the manager was last seen holding
 * nothing (undefined while something held it).
 */
export function idleVerdict(input: { holds: ManagerHolds; idleSince: number | undefined; idleMs: number; now: number }): IdleVerdict {
  const { holds, idleMs, now } = input;
  if (!(idleMs > 0)) return { action: 'never' };
  const by = holders(holds);
  if (by.length > 0) return { action: 'held', by };
  const idleSince = input.idleSince ?? now;
  const left = idleSince + idleMs - now;
  return left <= 0 ? { action: 'exit', idleSince } : { action: 'wait', idleSince, inMs: left };
}
