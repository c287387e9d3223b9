import { rm } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { PortRange } from '../../../src/fleet/port-range.js';
import { readEphemeralRange } from '../../../src/fleet/ports.js';
import { makeJupyterEnv } from '../../helpers/e2e.js';
import { writeClientConnectionFile } from '../../helpers/fleet-env.js';

// The five-routers cold start failed when a router's port, taken from the ephemeral range,
// was bound by the stand-in backend (or was the source port of a connect) before the router bound it.
describe('connection files written for a router', () => {
  const inRange = (port: number, [low, high]: PortRange) => port >= low && port <= high;

  it('writeClientConnectionFile uses no port the OS may hand out before the router binds it', async () => {
    const jenv = await makeJupyterEnv();
    try {
      const range = await readEphemeralRange();
      const files = [await writeClientConnectionFile(jenv), await writeClientConnectionFile(jenv)];
      const ports = files.flatMap(({ info }) => [info.shell_port, info.iopub_port, info.stdin_port, info.control_port, info.hb_port]);
      expect(new Set(ports).size).toBe(10);
      expect(ports.filter((p) => inRange(p, range))).toEqual([]);
    } finally {
      await rm(jenv.dir, { recursive: true, force: true });
    }
  });
});
