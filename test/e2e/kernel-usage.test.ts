/**
 * The kernel usage panel of JupyterLab (jupyter-resource-usage) for every backend (issue #9,
 * item 7): a real jupyter_client sends usage_request on control through a real router, and the
 * usage_reply carries the backend's pid and its whole process group's memory, as the fleet
 * measures it: tslab (which answers no usage_request itself), ipykernel and llmspell behind
 * the adapter (the llmspell test double) through the manager, and tslab in local mode, where
 * the router measures its own backend. For llmspell, /metrics counts the same processes (one
 * measure of a backend's family for usage, list and /metrics).
 */
import { describe, expect, it } from 'vitest';
import { readHttpInfo } from '../../src/fleet/manager/http/http-file.js';
import { expectChecksPassed } from '../helpers/checks.js';
import { llmspellDoubleBin } from '../helpers/llmspell-double.js';
import { describeRun, runPython, withJupyterEnv, type CheckResult } from '../helpers/e2e.js';
import { FLEET_JAVASCRIPT, FLEET_PYTHON, setupFleet, stopFleetManager } from '../helpers/fleet-env.js';
import { waitForNoProcesses } from '../helpers/processes.js';

const TEST_TIMEOUT_MS = 180_000;
/** Variables that would decide a requirement or the mode if the developer's shell had them set. */
const UNSET = ['LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER', 'KERNEL_LLMSPELL_RUNTIME', 'KERNEL_LLMSPELL_PROVIDER', 'LLMSPELL_FLEET_MODE', 'LLMSPELL_FLEET_CONFIG', 'JPY_SESSION_NAME'];

const CHECKS = [1, 2].flatMap((n) => [`one_usage_reply_${n}`, `fields_${n}`, `pid_is_the_backend_${n}`, `memory_is_the_group_${n}`, `host_figures_${n}`]);

/** llmspell_fleet_backend_processes of the one backend of `runtime`, from the manager's /metrics. */
async function metricsProcesses(home: string, runtime: string): Promise<number | undefined> {
  const http = await readHttpInfo(home);
  if (http === undefined) throw new Error('the manager wrote no http.json');
  const text = await (await fetch(`${http.url}/metrics`, { headers: { authorization: `Bearer ${http.token}` } })).text();
  const line = text.split('\n').find((l) => l.startsWith('llmspell_fleet_backend_processes{') && l.includes(`runtime="${runtime}"`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('usage_request through the router gets a usage_reply from the fleet', () => {
  it.each([
    ['tslab through the fleet manager', FLEET_JAVASCRIPT, 'fleet', 'python', '1 + 1', 'tslab'],
    ['ipykernel through the fleet manager', FLEET_PYTHON, 'fleet', 'python', '1 + 1', 'ipykernel'],
    // The adapter leads the group; llmspell, its child, is in it: the reply counts both.
    ['llmspell behind the adapter through the fleet manager', FLEET_PYTHON, 'fleet', 'lua', 'return 2 + 3', 'llmspell-adapter'],
    ['tslab in local mode (the router measures it)', FLEET_JAVASCRIPT, 'local', 'python', '1 + 1', 'tslab'],
  ] as const)('%s: the backend pid, its process group memory within 30%%', async (_name, kernel, mode, defaultRuntime, code, word) => {
    await withJupyterEnv(async (jenv) => {
      for (const name of UNSET) delete jenv.env[name];
      if (defaultRuntime === 'lua') jenv.env.PATH = `${await llmspellDoubleBin(jenv.dir)}:${jenv.env.PATH ?? ''}`;
      const llmspell = word === 'llmspell-adapter';
      // llmspell's backend lingers after the check, so that /metrics can be read about it.
      await setupFleet(jenv, { defaultRuntime, mode, ...(llmspell ? { toml: 'default_runtime = "lua"\ndefault_provider = "openai"\nlinger_seconds = 600\n' } : {}) });
      try {
        const run = await runPython<CheckResult>('usage_check.py', [kernel, code, word], { env: jenv.env, timeoutMs: 150_000 });
        const why = describeRun('usage_check', run);
        const result = expectChecksPassed(run, { exactly: ['code_ran', ...CHECKS] }, why);
        // Behind the adapter, llmspell (a group of its own, started by the adapter) is counted too,
        // and /metrics counts the same family as the usage_reply (one measure for both).
        if (llmspell) {
          const counted = result.group_processes as number[];
          expect(counted.every((n) => n >= 2), why).toBe(true);
          expect(await metricsProcesses(jenv.homeDir, 'lua'), why).toBe(counted.at(-1));
        }
      } finally {
        await stopFleetManager(jenv.homeDir);
      }
      await waitForNoProcesses(jenv.dir, 60_000);
    });
  }, TEST_TIMEOUT_MS);
});
