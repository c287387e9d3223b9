import { describe, expect, it } from 'vitest';
import { describeRun, runPython, withJupyterEnv, type CheckResult } from '../helpers/e2e.js';
import { FLEET_PYTHON, setupFleet } from '../helpers/fleet-env.js';
import { isRunning, waitForNoProcesses } from '../helpers/processes.js';

type LifecycleResult = CheckResult & { router_pid?: number; backend_pid?: number; recovery?: object };

async function scenario(name: string): Promise<void> {
  await withJupyterEnv(async (jenv) => {
    await setupFleet(jenv, { mode: 'local' });
    const r = await runPython<LifecycleResult>('router_lifecycle.py', [name, FLEET_PYTHON], { env: jenv.env, timeoutMs: 100_000 });
    const why = describeRun(name, r);
    expect(r.result, why).toBeDefined();
    expect(Object.entries(r.result!.checks).filter(([, c]) => !c.ok).map(([n]) => n), why).toEqual([]);
    expect(r.code, why).toBe(0);
    if (r.result!.recovery) console.log(`[router-lifecycle] ${name}: ${JSON.stringify(r.result!.recovery)}`);
    await waitForNoProcesses(jenv.dir, 60_000);
  });
}

describe('router lifecycle through jupyter_client (ipykernel backend, local mode: one private backend per router)', () => {
  it('never lets a forged, unsigned or replayed message reach the backend', () => scenario('bad-signature'));
  it('stops the backend and exits 0 on SIGTERM (what VS Code sends)', () => scenario('sigterm'));
  it('stops the backend and exits 0 on SIGHUP (a closed terminal)', () => scenario('sighup'));
  it('turns SIGINT to the router into an interrupt of the running cell', () => scenario('sigint'));
  it('answers a request in flight with an error when its backend is killed, tells every client, and restarts it', () =>
    scenario('backend-kill'));
  it("never touches another router's backend when one router is killed (restart race)", () => scenario('two-routers'));

  it('stops router and backend when the parent (JPY_PARENT_PID) dies without a shutdown', async () => {
    await withJupyterEnv(async (jenv) => {
      await setupFleet(jenv, { mode: 'local' });
      const r = await runPython<LifecycleResult>('router_lifecycle.py', ['parent-death', FLEET_PYTHON], { env: jenv.env, timeoutMs: 100_000 });
      const why = describeRun('parent-death', r);
      expect(r.result?.ok, why).toBe(true);
      const { router_pid: router, backend_pid: backend } = r.result!;
      expect(router).toBeGreaterThan(1);
      expect(backend).toBeGreaterThan(1);
      // The parent is gone now; the router polls JPY_PARENT_PID once a second.
      await waitForNoProcesses(jenv.dir, 60_000);
      expect(await isRunning(router!)).toBe(false);
      expect(await isRunning(backend!)).toBe(false);
    });
  });
});
