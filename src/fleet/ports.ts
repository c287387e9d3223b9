import { createServer, type AddressInfo, type Server } from 'node:net';
import { FleetError } from '../shared/errors.js';

/**
 * Free loopback ports for a kernel we write the connection file for.
 *
 * Probing (bind port 0, read, close) is inherently racy: between our close and the kernel's bind
 * someone else may take the port. Two things shrink the window inside this process: calls are
 * serialised, and a port handed out recently is not handed out again until it is released or
 * its grace period ends (the OS happily returns a port it just freed).
 */

/** Long enough to cover a slow kernel start (default startup timeout is 60 s). */
export const RECENT_PORT_TTL_MS = 5 * 60_000;
/** How many recently-used ports we tolerate from the OS before giving up on one allocation. */
const MAX_SKIPPED = 64;

const recent = new Map<number, number>();
let chain: Promise<unknown> = Promise.resolve();

export function allocatePorts(ip = '127.0.0.1', count = 5): Promise<number[]> {
  if (!Number.isInteger(count) || count < 1 || count > 64) {
    throw new TypeError(`allocatePorts: count must be an integer 1-64, got ${String(count)} (${typeof count})`);
  }
  const run = chain.then(() => probe(ip, count));
  // A failed allocation must not poison every later one.
  chain = run.catch(() => undefined);
  return run;
}

/** Lets a port be handed out again at once, e.g. after the kernel that used it has exited. */
export function releasePorts(ports: readonly number[]): void {
  for (const port of ports) recent.delete(port);
}

/** Ports whose grace period is over at `now`. Pure, so the expiry rule is table-testable. */
export function expiredPorts(handedOut: Iterable<readonly [port: number, at: number]>, now: number, ttlMs: number): number[] {
  const out: number[] = [];
  for (const [port, at] of handedOut) if (now - at >= ttlMs) out.push(port);
  return out;
}

async function probe(ip: string, count: number): Promise<number[]> {
  releasePorts(expiredPorts(recent, Date.now(), RECENT_PORT_TTL_MS));
  // All servers stay open until the end so the OS cannot return the same port twice in one call.
  const servers: Server[] = [];
  try {
    const picked: number[] = [];
    let skipped = 0;
    while (picked.length < count) {
      const server = await listenOnFreePort(ip);
      servers.push(server);
      const port = (server.address() as AddressInfo).port;
      if (!recent.has(port)) {
        picked.push(port);
      } else if (++skipped > MAX_SKIPPED) {
        throw new FleetError(
          'BIND_FAILED',
          `could not find ${count} free ports on ${ip}: the OS kept returning ports handed out moments ago; retry, or stop some kernels`,
          { ip, count, skipped },
        );
      }
    }
    const now = Date.now();
    for (const port of picked) recent.set(port, now);
    return picked;
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

function listenOnFreePort(ip: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (cause: NodeJS.ErrnoException) => {
      reject(
        new FleetError(
          'BIND_FAILED',
          `cannot bind a probe port on ${ip} (${cause.code ?? cause.message}); check that ${ip} is a local address`,
          { ip, errno: cause.code },
          { cause },
        ),
      );
    });
    server.listen({ host: ip, port: 0, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
