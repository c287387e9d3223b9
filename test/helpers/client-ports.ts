/**
 * Ports for a connection file a test writes for a kernel (our router) that binds them later,
 * while the test's client already connects to them.
 *
 * Not ephemeral ports (bind port 0, read, close): until the router binds, the OS hands such a
 * port out again, to any bind(0) (the stand-in backend's five, the manager's HTTP API) and as
 * the source port of any connect. Both were seen to make a router of the five-routers cold
 * start fail its bind (BIND_FAILED, exit 1) while its client retried for 60 s; a client
 * reconnecting every 10 ms to a port of that range can even connect to itself (libzmq issue
 * 4588) and hold the port. Ports outside ip_local_port_range are never handed out by the OS;
 * the choice of candidates is the product's own (src/fleet/port-range.ts).
 */
import { createServer, type Server } from 'node:net';
import { candidateSpans, drawCandidates } from '../../src/fleet/port-range.js';
import { readEphemeralRange } from '../../src/fleet/ports.js';

/** Handed out by this process: not again, even once free (the kernel it was for may bind it late). */
const handedOut = new Set<number>();

/** `count` free loopback ports outside the ephemeral range, at random (tests run side by side). */
export async function clientPorts(count: number): Promise<number[]> {
  const spans = candidateSpans(await readEphemeralRange());
  const servers: Server[] = [];
  try {
    const picked: number[] = [];
    for (let tries = 0; picked.length < count; tries++) {
      if (tries > 1000) throw new Error(`could not find ${count} free loopback ports outside the ephemeral range`);
      const [port] = drawCandidates(spans, 1, Math.random, new Set([...handedOut, ...picked]));
      if (port === undefined) continue;
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
