import * as zmq from '../wire/zmq.js';
import { setTimeout as wait } from 'node:timers/promises';
import { FleetError } from '../shared/errors.js';
import { endpoint, type ConnectionInfo } from '../wire/connection-file.js';

/**
 * High-water marks are chosen, not inherited: zeromq's default of 1000 silently drops on
 * PUB sockets (including the final `idle`). Request/reply sockets hold what they must (0 = no
 * limit): replies are few, and dropping one hangs a client.
 */
const HWM = 0;

/**
 * IOPub is where floods happen, so it is bounded and pushes back instead of growing or dropping:
 * the client-facing XPUB does not drop (NODROP: a send waits while the slowest subscriber is
 * IOPUB_HWM behind), the router stops reading a backend's iopub while its own queue is full, and
 * the backend SUB then holds at most IOPUB_HWM before TCP pushes back to the backend's PUB. The
 * backend keeps or drops the rest by its own high-water mark, exactly as it would with a slow
 * client connected directly, so the router adds no loss and a bounded amount of memory.
 */
export const IOPUB_HWM = 10_000;

/** The five sockets Jupyter's client connects to, bound from the connection file it wrote. */
export interface FrontendSockets {
  shell: zmq.Router;
  control: zmq.Router;
  stdin: zmq.Router;
  iopub: zmq.XPublisher;
  hb: zmq.Reply;
}

/**
 * How long a port in use is tried again before the bind fails: in a router host, a restarted
 * kernel's session binds the ports its predecessor's session (same process) closed a moment
 * before, and libzmq releases a closed socket's port in its own thread, not at close().
 */
export const BIND_RETRY_MS = 2000;

export async function bindFrontend(info: ConnectionInfo, retryMs = BIND_RETRY_MS): Promise<FrontendSockets> {
  const deadline = Date.now() + retryMs;
  for (;;) {
    try {
      return await bindOnce(info);
    } catch (cause) {
      if ((cause as { code?: unknown }).code !== 'EADDRINUSE' || Date.now() >= deadline) {
        throw new FleetError(
          'BIND_FAILED',
          `cannot bind the kernel's sockets on ${info.ip} (ports ${info.shell_port}, ${info.iopub_port}, ${info.stdin_port}, ${info.control_port}, ${info.hb_port}): ${(cause as Error).message}. Another process may hold a port; restart the kernel so Jupyter picks new ones.`,
          { ip: info.ip },
          { cause },
        );
      }
      await wait(20);
    }
  }
}

async function bindOnce(info: ConnectionInfo): Promise<FrontendSockets> {
  const routerOpts = { mandatory: true, sendHighWaterMark: HWM, receiveHighWaterMark: HWM, linger: 1000 };
  const sockets: FrontendSockets = {
    shell: new zmq.Router(routerOpts),
    control: new zmq.Router(routerOpts),
    stdin: new zmq.Router(routerOpts),
    // XPUB so that subscriptions are visible: a new subscriber gets iopub_welcome (protocol 5.5).
    iopub: new zmq.XPublisher({ sendHighWaterMark: IOPUB_HWM, noDrop: true, verbosity: 'allSubs', linger: 1000 }),
    hb: new zmq.Reply({ linger: 0 }),
  };
  // Every bind settles before any socket is closed: closing a zeromq socket while its bind is
  // still under way is not safe, and the retry above would do that again and again.
  const binds = await Promise.allSettled((Object.keys(sockets) as (keyof FrontendSockets)[]).map((ch) => sockets[ch].bind(endpoint(info, ch))));
  const failed = binds.find((b): b is PromiseRejectedResult => b.status === 'rejected');
  if (failed !== undefined) {
    closeAll(sockets);
    throw failed.reason;
  }
  return sockets;
}

export function closeAll(sockets: object): void {
  for (const s of Object.values(sockets) as zmq.Socket[]) {
    if (!s.closed) s.close();
  }
}
