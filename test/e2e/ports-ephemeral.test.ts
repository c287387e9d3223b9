/**
 * Why allocatePorts takes ports outside the ephemeral range, shown where the OS runs out of them:
 * in a private network namespace (`unshare -rn`, as the llmspell adapter uses) whose
 * ip_local_port_range is narrowed to 60 ports, as in the reproduction of the five-routers cold
 * start (test/e2e/cold-start.test.ts). test/fixtures/ephemeral-burst.mjs takes five ports from
 * the built allocatePorts and five the old way (bind port 0), then connects until no source port
 * is left, then binds all ten. Deterministic: the burst runs to EADDRNOTAVAIL, not for a while.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findSystemExecutable } from '../../src/shared/which.js';
import { REPO_ROOT } from '../helpers/e2e.js';
import { runToExit } from '../helpers/run.js';

const FIXTURE = join(REPO_ROOT, 'test', 'fixtures', 'ephemeral-burst.mjs');
const PORTS_JS = join(REPO_ROOT, 'dist', 'src', 'fleet', 'ports.js');
const LOW = 40000;
const HIGH = 40059;

interface Burst {
  allocated: number[];
  oldProbe: number[];
  sourcePorts: number[];
  connectError: string | undefined;
  allocatedBind: string[];
  oldProbeBind: string[];
}

const inRange = (port: number) => port >= LOW && port <= HIGH;

describe('ports a kernel binds later, after a burst of outgoing connections', () => {
  it('allocatePorts hands out ports the burst cannot take; bind(0) probing hands out ports it takes', { timeout: 60_000 }, async () => {
    const unshare = await findSystemExecutable('unshare', process.env.PATH);
    const ip = await findSystemExecutable('ip', process.env.PATH);
    expect(unshare, 'unshare (util-linux; scripts/setup.sh installs it)').toBeDefined();
    expect(ip, 'ip (iproute2; scripts/setup.sh installs it)').toBeDefined();
    const run = await runToExit(unshare!, ['-rn', process.execPath, FIXTURE, ip!, PORTS_JS, String(LOW), String(HIGH)], {
      env: process.env,
      timeoutMs: 45_000,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const burst = JSON.parse(run.stdout) as Burst;

    // The burst took every port of the narrowed range as a source port, then ran out.
    expect(burst.connectError).toBe('EADDRNOTAVAIL');
    expect(new Set(burst.sourcePorts)).toEqual(new Set(Array.from({ length: HIGH - LOW + 1 }, (_, i) => LOW + i)));

    // The old probing: ports from that range, gone by the time a kernel would bind them.
    expect(burst.oldProbe.filter(inRange)).toEqual(burst.oldProbe);
    expect(burst.oldProbeBind).toEqual(Array(5).fill('EADDRINUSE'));

    // allocatePorts: outside the range, still free to bind.
    expect(burst.allocated.filter(inRange)).toEqual([]);
    expect(burst.allocatedBind).toEqual(Array(5).fill('ok'));
  });
});
