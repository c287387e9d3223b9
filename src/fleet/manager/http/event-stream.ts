/**
 * GET /api/v1/events: the fleet's events as server-sent events, for as long as the client
 * stays. The returned promise settles when the client leaves (or the server closes), so the
 * request counts as in flight, and so holds the manager, while the stream is open.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FleetManager } from '../fleet.js';
import type { FleetExit } from '../fleet-options.js';
import { fleetEvents, sseEvent } from './events.js';
import { KEEPALIVE_MS, keepAlive, onClientLeft, openEventStream } from './sse.js';

export function streamEvents(fleet: FleetManager, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, keepaliveMs = KEEPALIVE_MS): Promise<void> {
  const write = openEventStream(res, headers, 'llmspell-fleet events');
  if (req.method === 'HEAD') {
    res.end();
    return Promise.resolve();
  }
  let last = fleet.list();
  const exits = new Map<string, FleetExit>();
  const stopObserving = fleet.observe((exit) => {
    if (exit !== undefined) exits.set(exit.kernelId, exit);
    const now = fleet.list();
    for (const event of fleetEvents(last, now, exits, Date.now())) write(sseEvent(event.type, event));
    // An exit is told once: when the backend left the list (or is listed dead).
    const listed = new Map(now.map((b) => [b.kernelId, b.state]));
    for (const id of exits.keys()) if (!listed.has(id) || listed.get(id) === 'dead') exits.delete(id);
    last = now;
  });
  const stopKeepalive = keepAlive(res, write, keepaliveMs);
  return new Promise<void>((resolve) => {
    onClientLeft(req, res, () => {
      stopObserving();
      stopKeepalive();
      resolve();
    });
  });
}
