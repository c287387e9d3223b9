import type * as zmq from 'zeromq';

/**
 * The client's heartbeat is answered by the router itself: it says "the kernel process the
 * client launched is alive", which is the router. Whether the backend answers is tracked
 * separately (wire/heartbeat-monitor.ts) so that a busy or dead backend never looks like a dead router.
 */
export async function serveHeartbeat(socket: zmq.Reply): Promise<void> {
  try {
    for await (const frames of socket) await socket.send(frames);
  } catch (error) {
    if (!socket.closed) throw error;
  }
}
