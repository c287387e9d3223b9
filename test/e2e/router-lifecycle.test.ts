import { describe, expect, it } from 'vitest';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, runPython, withJupyterEnv, type CheckResult } from '../helpers/e2e.js';
import { FLEET_PYTHON, setupFleet } from '../helpers/fleet-env.js';
import { isRunning, waitForNoProcesses } from '../helpers/processes.js';

type LifecycleResult = CheckResult & { router_pid?: number; backend_pid?: number; recovery?: object; interrupt_seconds?: number };

/** The checks each scenario of router_lifecycle.py records when it runs to the end. */
const CHECKS: Record<string, readonly string[]> = {
  'bad-signature': ['later_message_answered', 'forged_never_executed', 'unsigned_never_executed', 'replay_executed_once', 'session_still_works', 'router_exited'],
  sigterm: ['router_exited_0', 'backend_exited'],
  sighup: ['router_exited_0', 'backend_exited'],
  sigint: ['interrupted', 'still_works'],
  'backend-kill': ['error_reply', 'says_what_happened', 'clients_told_on_stderr', 'next_request_works_on_new_backend'],
  'two-routers': ['distinct_backends', 'a_backend_gone', 'b_backend_alive', 'b_state_kept', 'b_backend_gone_after_shutdown'],
  'parent-death': ['started'],
};

async function scenario(name: string): Promise<void> {
  await withJupyterEnv(async (jenv) => {
    await setupFleet(jenv, { mode: 'local' });
    const r = await runPython<LifecycleResult>('router_lifecycle.py', [name, FLEET_PYTHON], { env: jenv.env, timeoutMs: 100_000 });
    const result = expectChecksPassed(r, CHECKS[name]!, describeRun(name, r));
    if (result.recovery) console.log(`[router-lifecycle] ${name}: ${JSON.stringify(result.recovery)}`);
    if (result.interrupt_seconds !== undefined) console.log(`[router-lifecycle] ${name}: interrupted after ${String(result.interrupt_seconds)} s`);
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
      const { router_pid: router, backend_pid: backend } = expectChecksPassed(r, CHECKS['parent-death']!, describeRun('parent-death', r));
      expect(router).toBeGreaterThan(1);
      expect(backend).toBeGreaterThan(1);
      // The parent is gone now; the router polls JPY_PARENT_PID once a second.
      await waitForNoProcesses(jenv.dir, 60_000);
      expect(await isRunning(router!)).toBe(false);
      expect(await isRunning(backend!)).toBe(false);
    });
  });
});
