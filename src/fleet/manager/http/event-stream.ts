/**
 * GET /api/v1/events: the fleet's events as server-sent events, for as long as the client
 * stays. The returned promise settles when the client leaves (or the server closes), so the
 * request counts as in flight, and so holds the manager, while the stream is open.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FleetManager } from '../fleet.js';
import { watchFleetEvents } from '../fleet-events.js';
import { sseEvent } from './events.js';
import { KEEPALIVE_MS, keepAlive, onClientLeft, openEventStream } from './sse.js';

export function streamEvents(fleet: FleetManager, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, keepaliveMs = KEEPALIVE_MS): Promise<void> {
  const write = openEventStream(res, headers, 'llmspell-fleet events');
  if (req.method === 'HEAD') {
    res.end();
    return Promise.resolve();
  }
  const stopObserving = watchFleetEvents(fleet, (event) => write(sseEvent(event.type, event)));
  const stopKeepalive = keepAlive(res, write, keepaliveMs);
  return new Promise<void>((resolve) => {
    onClientLeft(req, res, () => {
      stopObserving();
      stopKeepalive();
      resolve();
    });
  });
}
