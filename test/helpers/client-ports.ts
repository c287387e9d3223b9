/**
 * Ports for a connection file a test writes for a kernel (our router) that binds them later,
 * while the test's client already connects to them.
 *
 * Not ephemeral ports (bind port 0, read, close): until the router binds, the OS hands such a
 * port out again, to any bind(0) (the stand-in backend's five, the manager's HTTP API) and as
 * the source port of any connect. Both were seen to make a router of the five-routers cold
 * start fail its bind (BIND_FAILED, exit 1) while its client retried for 60 s; a client
 * reconnecting every 10 ms to a port of that range can even connect to itself (libzmq issue
 * 4588) and hold the port. Ports outside ip_local_port_range are never handed out by the OS.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

/** The lowest port a test uses: below it are most services' conventional ports (a kube-apiserver's 6443, a kubelet's 10250). */
const FIRST_PORT = 20000;
const LAST_PORT = 65535;

/** Inclusive bounds. */
export type PortRange = readonly [low: number, high: number];

/** Pure: the parts of [FIRST_PORT, LAST_PORT] outside the OS's ephemeral range. */
export function portsOutside(ephemeral: PortRange): PortRange[] {
  const [low, high] = ephemeral;
  const spans: PortRange[] = [];
  if (low > FIRST_PORT) spans.push([FIRST_PORT, Math.min(low - 1, LAST_PORT)]);
  if (high < LAST_PORT) spans.push([Math.max(high + 1, FIRST_PORT), LAST_PORT]);
  return spans.filter(([a, b]) => a <= b);
}

/** Pure: the port at `fraction` (0 <= fraction < 1) of the spans laid end to end. */
export function portAt(spans: readonly PortRange[], fraction: number): number {
  const total = spans.reduce((n, [a, b]) => n + b - a + 1, 0);
  if (total === 0) throw new Error(`no port outside the ephemeral range (ip_local_port_range covers ${FIRST_PORT}-${LAST_PORT})`);
  let index = Math.floor(fraction * total);
  for (const [a, b] of spans) {
    if (index <= b - a) return a + index;
    index -= b - a + 1;
  }
  throw new RangeError(`fraction ${fraction} is not in [0, 1)`);
}

/** The OS's ephemeral range (Linux); its documented default when it cannot be read. */
export function ephemeralRange(): PortRange {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high)) return [low!, high!];
  } catch {
    // not Linux: fall through
  }
  return [32768, 60999];
}

/** Handed out by this process: not again, even once free (the kernel it was for may bind it late). */
const handedOut = new Set<number>();

/** `count` free loopback ports outside the ephemeral range, at random (tests run side by side). */
export async function clientPorts(count: number): Promise<number[]> {
  const spans = portsOutside(ephemeralRange());
  const servers: Server[] = [];
  try {
    const picked: number[] = [];
    for (let tries = 0; picked.length < count; tries++) {
      if (tries > 1000) throw new Error(`could not find ${count} free loopback ports outside the ephemeral range`);
      const port = portAt(spans, Math.random());
      if (handedOut.has(port)) continue;
      // Held open until all are picked: a port taken by something else fails here, not in the router.
      const server = await listenOn(port);
      if (server === undefined) continue;
      servers.push(server);
      picked.push(port);
    }
    for (const port of picked) handedOut.add(port);
    return picked;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

function listenOn(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => resolve(server));
  });
}
