import { readFile } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { FleetError } from '../shared/errors.js';
import { LINUX_DEFAULT_EPHEMERAL, candidateSpans, drawCandidates, parsePortRange, spanSize, type PortRange } from './port-range.js';

/**
 * Free ports for a kernel we write the connection file for.
 *
 * Ports come from outside the OS's ephemeral range (port-range.ts): a port the OS hands out by
 * itself (bind port 0, or the source port of a connect) may be handed out again between our
 * probe and the kernel's bind, and the kernel then fails to start. Each candidate is bound once
 * on `ip` to check it is free. Inside this process calls are serialised, and a port handed out
 * recently is not handed out again until it is released or its grace period ends.
 */

/** Long enough to cover a slow kernel start (default startup timeout is 60 s). */
export const RECENT_PORT_TTL_MS = 5 * 60_000;
/** Rounds of random candidates before giving up: only a span nearly full of listeners needs more than one. */
const MAX_ROUNDS = 50;
/** How many recently-used ports we tolerate from the OS before giving up (ephemeral fallback only). */
const MAX_SKIPPED = 64;
const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';

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

/** The OS's ephemeral range; Linux's default where it cannot be read (not Linux, no /proc). */
export async function readEphemeralRange(file = EPHEMERAL_RANGE_FILE): Promise<PortRange> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return parsePortRange(text) ?? LINUX_DEFAULT_EPHEMERAL;
}

async function probe(ip: string, count: number): Promise<number[]> {
  releasePorts(expiredPorts(recent, Date.now(), RECENT_PORT_TTL_MS));
  const spans = candidateSpans(await readEphemeralRange());
  // All servers stay open until the end so one call cannot pick the same port twice.
  const servers: Server[] = [];
  try {
    const picked =
      spanSize(spans) > 0 ? await pickOutside(ip, count, spans, servers) : await pickEphemeral(ip, count, servers);
    const now = Date.now();
    for (const port of picked) recent.set(port, now);
    return picked;
  } finally {
    await Promise.all(servers.map(closeServer));
  }
}

async function pickOutside(ip: string, count: number, spans: readonly PortRange[], servers: Server[]): Promise<number[]> {
  const picked: number[] = [];
  for (let round = 0; picked.length < count; round++) {
    if (round >= MAX_ROUNDS) {
      throw new FleetError(
        'BIND_FAILED',
        `could not find ${count} free ports on ${ip} outside the ephemeral range (${spans.map((s) => s.join('-')).join(', ')}): nearly all are in use; stop some kernels or services`,
        { ip, count, found: picked.length },
      );
    }
    const skip = new Set([...recent.keys(), ...picked]);
    for (const port of drawCandidates(spans, count - picked.length, Math.random, skip)) {
      const server = await listenOn(ip, port);
      if (server === undefined) continue;
      servers.push(server);
      picked.push(port);
    }
  }
  return picked;
}

/**
 * When ip_local_port_range covers every candidate there is nothing better than the OS's own
 * choice: the old probing, racy as it is, rather than no kernel at all.
 */
async function pickEphemeral(ip: string, count: number, servers: Server[]): Promise<number[]> {
  const picked: number[] = [];
  let skipped = 0;
  while (picked.length < count) {
    const server = (await listenOn(ip, 0))!;
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
  return picked;
}

/** A server bound to `port` on `ip`, or undefined when that port is taken; other failures throw. */
function listenOn(ip: string, port: number): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', (cause: NodeJS.ErrnoException) => {
      if (port !== 0 && (cause.code === 'EADDRINUSE' || cause.code === 'EACCES')) {
        resolve(undefined);
        return;
      }
      reject(
        new FleetError(
          'BIND_FAILED',
          `cannot bind a probe port on ${ip} (${cause.code ?? cause.message}); check that ${ip} is a local address`,
          { ip, errno: cause.code },
          { cause },
        ),
      );
    });
    server.listen({ host: ip, port, exclusive: true }, () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
