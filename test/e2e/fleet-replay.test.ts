/**
 * Kernels and output that outlive the client (issue 13, item 8), end to end: real
 * jupyter_client KernelManagers start the installed llmspell-fleet kernelspec (real routers),
 * the real fleet manager keeps the ipykernel backend through a long linger_seconds and its
 * output while no router is attached, and the next router shows that output to its client.
 * The scenario is test/e2e/py/replay_check.py; it awaits files and listings, never a clock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, makeJupyterEnv, runPython, type JupyterEnv, type RunPythonResult } from '../helpers/e2e.js';
import { CLI, setupFleet, stopFleetManager } from '../helpers/fleet-env.js';
import { isFleetDaemon, processesReferencing, waitForNoProcesses } from '../helpers/processes.js';

/** Variables that would decide a requirement or the mode if the developer's shell had them set. */
const UNSET = ['LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER', 'KERNEL_LLMSPELL_RUNTIME', 'KERNEL_LLMSPELL_PROVIDER', 'LLMSPELL_FLEET_MODE', 'LLMSPELL_FLEET_CONFIG', 'JPY_SESSION_NAME'];

let jenv: JupyterEnv;

/** The manager's own `shutdown` op; resolves once it has stopped its backends and exited. */
const stopManager = () => stopFleetManager(jenv.homeDir);

describe('output that outlives the client', () => {
  beforeAll(async () => {
    jenv = await makeJupyterEnv();
    for (const name of UNSET) delete jenv.env[name];
    // A linger longer than the test: the backend must still be there when the next router comes.
    await setupFleet(jenv, { toml: 'default_runtime = "python"\ndefault_provider = "openai"\nlinger_seconds = 600\n' });
  }, 60_000);

  afterAll(async () => {
    await stopManager().catch(() => undefined);
    await waitForNoProcesses(jenv.dir, 60_000).catch((e: unknown) => console.error(`[e2e] after the test: ${String(e)}`));
    await jenv?.cleanup();
  }, 90_000);

  it("a cell's output printed while no client was attached is shown in the next client's first cell, and again by %llmspell replay", async () => {
    let run: RunPythonResult<{ ok: boolean; checks: Record<string, { ok: boolean; detail: unknown }> }> | undefined;
    try {
      run = await runPython('replay_check.py', ['replay'], {
        env: { ...jenv.env, FLEET_NODE: process.execPath, FLEET_CLI: CLI, FLEET_DIR: jenv.dir },
        timeoutMs: 170_000,
      });
      expectChecksPassed(run, [
        'A_cell_printed_before',
        'A_router_exited',
        'manager_subscribed_while_no_client',
        'cell_finished_while_detached_output_kept',
        'B_first_cell_starts_with_the_heading',
        'B_first_cell_shows_after_lines_then_its_own_output',
        'nothing_from_before_the_client_left',
        'B_same_backend',
        'replay_magic_shows_it_again',
        'next_cell_has_only_its_own_output',
        'output_handed_out_once',
        'another_router_was_shown_nothing',
        'C_shares_the_backend',
        'backend_stopped',
      ], describeRun('replay_check replay', run));
      const left = (await processesReferencing(jenv.dir)).filter((p) => !isFleetDaemon(p));
      expect(left, 'routers and backends still running after the scenario').toEqual([]);
    } finally {
      if (run !== undefined && (run.code !== 0 || process.env.FLEET_E2E_VERBOSE)) console.error(`[e2e] replay_check stderr:\n${run.stderr.slice(-8000)}`);
      await stopManager();
      await waitForNoProcesses(jenv.dir, 60_000);
    }
  }, 240_000);
});
