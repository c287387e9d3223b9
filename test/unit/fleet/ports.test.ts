import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import { RECENT_PORT_TTL_MS, allocatePorts, expiredPorts, readEphemeralRange, releasePorts } from '../../../src/fleet/ports.js';
import { LINUX_DEFAULT_EPHEMERAL } from '../../../src/fleet/port-range.js';

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      expect((server.address() as AddressInfo).port).toBe(port);
      server.close(() => resolve(true));
    });
  });
}

describe('expiredPorts', () => {
  it.each([
    { name: 'nothing handed out', entries: [] as [number, number][], now: 1000, ttl: 100, expected: [] },
    { name: 'fresh port stays', entries: [[5000, 950]] as [number, number][], now: 1000, ttl: 100, expected: [] },
    { name: 'exactly at ttl expires', entries: [[5000, 900]] as [number, number][], now: 1000, ttl: 100, expected: [5000] },
    {
      name: 'only the old ones',
      entries: [[5000, 0], [5001, 999], [5002, 10]] as [number, number][],
      now: 1000,
      ttl: 500,
      expected: [5000, 5002],
    },
  ])('$name', ({ entries, now, ttl, expected }) => {
    expect(expiredPorts(entries, now, ttl)).toEqual(expected);
  });

  it('keeps ports for a startup-sized window', () => {
    expect(RECENT_PORT_TTL_MS).toBeGreaterThanOrEqual(60_000);
  });
});

describe('allocatePorts', () => {
  it('returns five distinct loopback ports that are free to bind', async () => {
    const ports = await allocatePorts();
    expect(ports).toHaveLength(5);
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) {
      expect(port).toBeGreaterThan(0);
      expect(await canBind(port)).toBe(true);
    }
  });

  it('never hands the same port to concurrent callers', async () => {
    const batches = await Promise.all(Array.from({ length: 8 }, () => allocatePorts('127.0.0.1', 5)));
    const all = batches.flat();
    expect(all).toHaveLength(40);
    expect(new Set(all).size).toBe(40);
  });

  it('does not reuse recently handed-out ports in later calls', async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 10; i++) {
      for (const port of await allocatePorts('127.0.0.1', 3)) {
        expect(seen.has(port)).toBe(false);
        seen.add(port);
      }
    }
  });

  it('honours count', async () => {
    expect(await allocatePorts('127.0.0.1', 1)).toHaveLength(1);
    expect(await allocatePorts('127.0.0.1', 12)).toHaveLength(12);
  });

  it.each([0, -1, 1.5, 65, Number.NaN])('rejects count %s with a TypeError', (count) => {
    expect(() => allocatePorts('127.0.0.1', count)).toThrow(TypeError);
  });

  it('fails with BIND_FAILED on an address that is not local, and recovers afterwards', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a local interface.
    const error = await allocatePorts('192.0.2.1', 5).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isFleetError(error) && error.code).toBe('BIND_FAILED');
    expect(isFleetError(error) && error.context.ip).toBe('192.0.2.1');
    expect(await allocatePorts()).toHaveLength(5);
  });

  it('hands out no port of the ephemeral range, which the OS could hand out again before the kernel binds', async () => {
    const [low, high] = await readEphemeralRange();
    const ports = (await Promise.all(Array.from({ length: 4 }, () => allocatePorts('127.0.0.1', 5)))).flat();
    expect(ports.filter((p) => p >= low && p <= high)).toEqual([]);
    expect(ports.every((p) => p >= 20000 && p <= 65535)).toBe(true);
  });

  it.each<[string, string | undefined, readonly [number, number]]>([
    ['unreadable: Linux default', undefined, LINUX_DEFAULT_EPHEMERAL],
    ['narrowed', '40000\t40059\n', [40000, 40059]],
    ['garbled: Linux default', 'n/a\n', LINUX_DEFAULT_EPHEMERAL],
  ])('readEphemeralRange: %s', async (_, text, expected) => {
    const dir = await mkdtemp(join(tmpdir(), 'ports-range-'));
    try {
      const file = join(dir, 'ip_local_port_range');
      if (text !== undefined) await writeFile(file, text);
      expect(await readEphemeralRange(file)).toEqual(expected);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('releasePorts is safe for ports it never handed out', async () => {
    const ports = await allocatePorts();
    releasePorts(ports);
    releasePorts([1, 2, 3]);
    expect(await allocatePorts()).toHaveLength(5);
  });
});
