/**
 * The fleet's events for one listener, whichever transport carries them (GET /api/v1/events
 * as server-sent events, the socket's `events` op as pushed lines): the last list seen, and
 * on each change the fleet notes, what differs (http/events.ts). One watcher, two transports.
 */
import type { FleetManager } from './fleet.js';
import type { FleetExit } from './fleet-options.js';
import { fleetEvents } from './http/events.js';
import type { FleetEvent } from './protocol.js';

/** Calls `onEvent` for each change from now on; the returned function stops listening. */
export function watchFleetEvents(fleet: FleetManager, onEvent: (event: FleetEvent) => void): () => void {
  let last = fleet.list();
  const exits = new Map<string, FleetExit>();
  return fleet.observe((exit) => {
    if (exit !== undefined) exits.set(exit.kernelId, exit);
    const now = fleet.list();
    for (const event of fleetEvents(last, now, exits, Date.now())) onEvent(event);
    // An exit is told once: when the backend left the list (or is listed dead).
    const listed = new Map(now.map((b) => [b.kernelId, b.state]));
    for (const id of exits.keys()) if (!listed.has(id) || listed.get(id) === 'dead') exits.delete(id);
    last = now;
  });
}
