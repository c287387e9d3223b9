import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { clientPorts, ephemeralRange, portAt, portsOutside, type PortRange } from '../../helpers/client-ports.js';
import { makeJupyterEnv } from '../../helpers/e2e.js';
import { writeClientConnectionFile } from '../../helpers/fleet-env.js';

describe('portsOutside: where the OS never hands a port out', () => {
  it.each<[string, PortRange, PortRange[]]>([
    ['Linux default', [32768, 60999], [[20000, 32767], [61000, 65535]]],
    ['up to the top', [49152, 65535], [[20000, 49151]]],
    ['from the bottom', [20000, 40000], [[40001, 65535]]],
    ['below 20000 is never used', [1024, 30000], [[30001, 65535]]],
    ['everything', [20000, 65535], []],
  ])('%s', (_, range, spans) => {
    expect(portsOutside(range)).toEqual(spans);
  });
});

describe('portAt: a fraction of the spans laid end to end', () => {
  const spans: PortRange[] = [[1024, 1025], [2000, 2001]];
  it.each<[number, number]>([
    [0, 1024],
    [0.25, 1025],
    [0.5, 2000],
    [0.99, 2001],
  ])('%d -> %d', (fraction, port) => {
    expect(portAt(spans, fraction)).toBe(port);
  });
  it('no span: says why', () => {
    expect(() => portAt([], 0.5)).toThrow(/ephemeral range/);
  });
});

// The five-routers cold start failed when a router's port, taken from the ephemeral range,
// was bound by the stand-in backend (or was the source port of a connect) before the router bound it.
describe('connection files written for a router', () => {
  const inRange = (port: number, [low, high]: PortRange) => port >= low && port <= high;

  it('clientPorts: distinct, outside the ephemeral range', async () => {
    const ports = [...(await clientPorts(5)), ...(await clientPorts(5))];
    expect(new Set(ports).size).toBe(10);
    expect(ports.filter((p) => inRange(p, ephemeralRange()))).toEqual([]);
  });

  it('writeClientConnectionFile uses no port the OS may hand out before the router binds it', async () => {
    const jenv = await makeJupyterEnv();
    try {
      const { info } = await writeClientConnectionFile(jenv);
      const ports = [info.shell_port, info.iopub_port, info.stdin_port, info.control_port, info.hb_port];
      expect(ports.filter((p) => inRange(p, ephemeralRange()))).toEqual([]);
    } finally {
      await rm(jenv.dir, { recursive: true, force: true });
    }
  });
});
