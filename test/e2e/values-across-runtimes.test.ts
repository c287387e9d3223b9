/**
 * `%llmspell get/put` (issue 13, item 7) end to end: a real jupyter_client session through the
 * real router (the llmspell-fleet kernelspec), whose session has three backends: ipykernel
 * (python), tslab (javascript) and llmspell behind the adapter (lua), where "llmspell" is the
 * test double (test/fixtures/llmspell-double.mjs, real Lua 5.4), first on PATH as a user's
 * installed llmspell would be. The scenario is test/e2e/py/values_check.py; the test ends with
 * the manager stopped and nothing of the environment left running.
 */

import { join } from 'node:path';
import { llmspellDoubleBin } from '../helpers/llmspell-double.js';
import { describe, expect, it } from 'vitest';
import { expectChecksPassed, type ChecksResult } from '../helpers/checks.js';
import { describeRun, runPython, withJupyterEnv } from '../helpers/e2e.js';
import { CLI, setupFleet, stopFleetManager } from '../helpers/fleet-env.js';
import { isFleetDaemon, processesReferencing, waitForNoProcesses } from '../helpers/processes.js';

const TOML = 'default_runtime = "python"\ndefault_provider = "openai"\nlinger_seconds = 0\n';
const UNSET = ['LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER', 'KERNEL_LLMSPELL_RUNTIME', 'KERNEL_LLMSPELL_PROVIDER', 'LLMSPELL_FLEET_MODE', 'LLMSPELL_FLEET_CONFIG', 'JPY_SESSION_NAME', 'OPENAI_API_KEY', 'LLMSPELL_PROVIDER_OPENAI_API_KEY'];

describe('values across runtimes through the router, real jupyter_client', () => {
  it('a nested value goes python -> javascript -> lua -> python; what cannot cross is refused by name and nothing is copied; the router keeps its own requests from the client', async () => {
    await withJupyterEnv(async (jenv) => {
      for (const name of UNSET) delete jenv.env[name];
      jenv.env.PATH = `${await llmspellDoubleBin(jenv.dir)}:${jenv.env.PATH ?? ''}`;
      await setupFleet(jenv, { toml: TOML });
      const run = await runPython<ChecksResult>('values_check.py', [], { env: { ...jenv.env, FLEET_NODE: process.execPath, FLEET_CLI: CLI }, timeoutMs: 200_000 });
      const why = describeRun('values_check', run);
      expectChecksPassed(run, { exactly: [
        'put_python_to_javascript',
        'magic_cell_messages',
        'javascript_has_the_values',
        'use_lua',
        'too_big_for_lua_is_refused',
        'nothing_copied_after_a_refusal',
        'get_javascript_into_lua',
        'lua_has_the_values',
        'lua_text_unicode_quotes_newlines',
        'put_lua_to_python',
        'python_has_the_values_keys_sorted_by_lua',
        'python_keeps_order',
        'python_int_and_float',
        'function_and_undefined_are_named',
        'reserved_word_in_the_target',
        'own_backend_refused',
        'python_refusals_named',
        'python_tuple_copied',
        'python_tuple_is_a_lua_list',
        'get_sent_back_to_back',
        'the_next_cell_sees_the_copy',
        'no_iopub_of_the_routers_own_requests',
        'no_export_marker_reaches_the_client',
      ] }, why);
      const left = (await processesReferencing(jenv.dir)).filter((p) => !isFleetDaemon(p));
      expect(left, `still running after the scenario\n${why}`).toEqual([]);
      if (process.env.VALUES_E2E_VERBOSE) console.error(run.stderr);
      await stopFleetManager(jenv.homeDir);
      await waitForNoProcesses(jenv.dir, 60_000);
    });
  }, 260_000);
});
