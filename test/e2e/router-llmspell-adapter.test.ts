/**
 * The first-run experience of issue 8, end to end: real jupyter_client sessions and `jupyter
 * console` through the real router (the llmspell-fleet kernelspec) to the built-in lua runtime,
 * with no provider config, i.e. the fleet runs llmspell behind the adapter, in a private network
 * namespace where `unshare -rn` works (as here). "llmspell" is the faithful test double
 * (test/fixtures/llmspell-double.mjs), first on the PATH the router and manager inherit, with
 * LLMSPELL_DOUBLE_ANNOUNCE=1 so that the driver can see in the backend log when a cell reached it.
 *
 * Each scenario is one run of test/e2e/py/llmspell_adapter_check.py, which records named checks;
 * every test has its own Jupyter environment and fleet manager and ends with nothing left running.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DOUBLE, llmspellDoubleBin } from '../helpers/llmspell-double.js';
import { describe, expect, it } from 'vitest';
import { LLMSPELL_ARGV } from '../../src/fleet/defaults.js';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, runPython, withJupyterEnv, type CheckResult, type JupyterEnv } from '../helpers/e2e.js';
import { CLI, cli, setupFleet, stopFleetManager } from '../helpers/fleet-env.js';
import { runToExit } from '../helpers/run.js';
import { isFleetDaemon, processesReferencing, waitForNoProcesses } from '../helpers/processes.js';

const SCRIPT_TIMEOUT_MS = 150_000;
const TEST_TIMEOUT_MS = 200_000;

/** linger 0, so the backend stops as soon as its last client leaves; nothing about providers. */
const FIRST_RUN_TOML = 'linger_seconds = 0\n';

/** The built-in lua runtime's argv as the user copies it, with the restart policy for interrupts. */
const RESTART_TOML = [
  'linger_seconds = 0',
  '',
  '[runtimes.lua]',
  `argv = ${JSON.stringify(LLMSPELL_ARGV)}`,
  'language = "lua"',
  'interrupt = "restart"',
  'interrupt_grace_seconds = 0.5',
  '',
].join('\n');

/** Variables that would pick another runtime or provider if the developer's shell had them set. */
const UNSET = ['LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER', 'KERNEL_LLMSPELL_RUNTIME', 'KERNEL_LLMSPELL_PROVIDER', 'LLMSPELL_FLEET_MODE', 'LLMSPELL_FLEET_CONFIG', 'JPY_SESSION_NAME', 'OPENAI_API_KEY', 'LLMSPELL_PROVIDER_OPENAI_API_KEY'];

/**
 * A Jupyter environment where `llmspell` is the double: a tiny script first on PATH, as a user's
 * installed llmspell would be. The kernelspec is installed and fleet.toml written (`toml`).
 */
async function withLlmspellDouble(toml: string, fn: (jenv: JupyterEnv) => Promise<void>): Promise<void> {
  await withJupyterEnv(async (jenv) => {
    for (const name of UNSET) delete jenv.env[name];
    jenv.env.PATH = `${await llmspellDoubleBin(jenv.dir)}:${jenv.env.PATH ?? ''}`;
    jenv.env.LLMSPELL_DOUBLE_ANNOUNCE = '1';
    await setupFleet(jenv, { toml });
    await fn(jenv);
    await stopFleetManager(jenv.homeDir);
    await waitForNoProcesses(jenv.dir, 60_000);
  });
}

/** A pino line (the router's, the manager's or the adapter's log) that leaked into a terminal. */
function isJsonLogLine(line: string): boolean {
  if (!line.trimStart().startsWith('{')) return false;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null && ('level' in parsed || 'msg' in parsed);
  } catch {
    return false;
  }
}

/** Runs one scenario of the driver; asserts it ran, every check passed, and `expected` checks exist. */
async function scenario(jenv: JupyterEnv, name: string, expected: readonly string[]): Promise<CheckResult> {
  const run = await runPython<CheckResult>('llmspell_adapter_check.py', [name], {
    env: { ...jenv.env, FLEET_NODE: process.execPath, FLEET_CLI: CLI },
    timeoutMs: SCRIPT_TIMEOUT_MS,
  });
  const why = describeRun(`llmspell_adapter_check ${name}`, run);
  // A renamed or dropped check must not pass silently.
  const result = expectChecksPassed(run, expected, why);
  // linger 0: the routers, the adapter and llmspell are gone once the clients have shut down.
  const left = (await processesReferencing(jenv.dir)).filter((p) => !isFleetDaemon(p));
  expect(left, `still running after the scenario\n${why}`).toEqual([]);
  console.log(`[e2e] llmspell adapter ${name}: ${Object.keys(result.checks).length} checks passed in ${run.durationMs} ms`);
  if (process.env.LLMSPELL_E2E_VERBOSE) console.error(run.stderr);
  return result;
}

describe('the built-in lua runtime (llmspell behind the adapter) through the router, first run, real jupyter_client', () => {
  it('output, results, errors with tracebacks, status, counts, completion, is_complete; two routers share it; no key: a generated config and a notice; llmspell unreachable from the host; nothing left after shutdown', async () => {
    await withLlmspellDouble(FIRST_RUN_TOML, async (jenv) => {
      await scenario(jenv, 'session', [
        'llmspell_argv_generated_config',
        'generated_config_has_no_provider_without_a_key',
        'first_cell_says_no_api_key',
        'the_notice_is_said_once',
        'print_output',
        'return_result',
        'syntax_error_reply',
        'syntax_error_names_the_cell_line_2',
        'runtime_error_reply',
        'runtime_error_traceback_lines',
        'no_engine_rs_anywhere',
        'status_busy_idle_per_request',
        'execution_counts_1_2_3',
        'complete_pri_print',
        'complete_global_from_earlier_cell',
        'is_complete_for_loop_incomplete',
        'one_backend_two_clients',
        'global_set_by_A_read_by_B',
        'global_changed_by_B_read_by_A',
        'adapter_connection_file_transport_ipc',
        'llmspell_ports_refused_from_the_host',
        'llmspell_in_another_network_namespace',
        'client_works_through_the_router',
        'no_adapter_no_llmspell_after_shutdown',
        'connection_files_and_ipc_sockets_removed',
      ]);
    });
  }, TEST_TIMEOUT_MS);

  it('interrupt while a cell runs (default policy): the cell shows the notice and finishes; SIGINT to the adapter group spares llmspell', async () => {
    await withLlmspellDouble(FIRST_RUN_TOML, async (jenv) => {
      await scenario(jenv, 'interrupt', [
        'notice_in_the_cell',
        'cell_finishes_with_its_output',
        'kernel_lives_state_kept',
        'adapter_leads_its_own_group',
        'sigint_seen_by_the_adapter_as_interrupt',
        'cell_finishes_after_sigint',
        'llmspell_survives_sigint',
        'state_kept_after_sigint',
      ]);
    });
  }, TEST_TIMEOUT_MS);

  it('interrupt = "restart": the cell gets LlmspellInterrupted after the grace period, the next cell runs on a new llmspell and says so', async () => {
    await withLlmspellDouble(RESTART_TOML, async (jenv) => {
      await scenario(jenv, 'restart', [
        'notice_says_restart',
        'cell_error_reply',
        'cell_iopub_error',
        'next_cell_runs_on_a_new_llmspell',
        'next_cell_says_llmspell_restarted',
        'old_llmspell_gone_new_one_runs',
      ]);
    });
  }, TEST_TIMEOUT_MS);

  it('llmspell killed mid-cell: the cell gets LlmspellDied, the next cell works on a new llmspell', async () => {
    await withLlmspellDouble(FIRST_RUN_TOML, async (jenv) => {
      await scenario(jenv, 'kill', ['cell_error_reply', 'cell_iopub_error', 'next_cell_works_on_a_new_llmspell', 'next_cell_says_llmspell_restarted', 'new_llmspell']);
    });
  }, TEST_TIMEOUT_MS);

  it('jupyter console --kernel llmspell-fleet: print, a result, an error with its traceback; no JSON log lines in the terminal', async () => {
    await withLlmspellDouble(FIRST_RUN_TOML, async (jenv) => {
      // One cell per line, as typed; stdin then closes and the console exits, shutting its kernel down.
      const code = ['print("console says hi")', 'return 2+3', 'local function f() error("console boom") end f()'].join('\n');
      const run = await runPython<CheckResult>('console_check.py', ['llmspell-fleet', '--language', 'lua', '--code', code, '--expect', 'console says hi'], {
        env: jenv.env,
        timeoutMs: SCRIPT_TIMEOUT_MS,
      });
      const why = describeRun('console_check', run);
      const result = expectChecksPassed(run, { exactly: ['exited_in_time', 'exit_status_0', 'output', 'connection_file_removed'] }, why);
      const stdout = String(result.stdout);
      const terminal = `${stdout}\n${String(result.stderr)}`;
      expect(stdout, why).toMatch(/Out\[2\]: 5\b/);
      expect(terminal, why).toContain('LuaRuntimeError');
      expect(terminal, why).toContain('console boom');
      expect(terminal, why).toContain('stack traceback');
      expect(terminal, why).not.toContain('engine.rs');
      expect(terminal.split('\n').filter(isJsonLogLine), why).toEqual([]);
      if (process.env.LLMSPELL_E2E_VERBOSE) console.error(terminal);
      const left = (await processesReferencing(jenv.dir)).filter((p) => !isFleetDaemon(p));
      expect(left, `still running after jupyter console exited\n${why}`).toEqual([]);
    });
  }, TEST_TIMEOUT_MS);
  it("a key exported after the manager started reaches llmspell: the requester's key travels with its request", async () => {
    // `find` holds no lease: the backend must linger long enough to be looked at.
    await withLlmspellDouble('linger_seconds = 600\n', async (jenv) => {
      // The manager starts without any key...
      await cli(jenv, ['manager']);
      // ...and a later request brings one, as a user who exported it and reopened the notebook.
      const found = await runToExit(process.execPath, [CLI, 'find', '--runtime', 'lua', '--provider', 'openai'], {
        env: { ...jenv.env, OPENAI_API_KEY: 'sk-e2e-not-a-real-key' },
      });
      expect(found.code, found.stderr).toBe(0);
      const connectionFile = found.stdout.trim();
      const generated = connectionFile.replace(/\.json$/, '-llmspell.toml');
      const config = await readFile(generated, 'utf8');
      expect(config).toContain('api_key_env = "OPENAI_API_KEY"');
      expect(config).not.toContain('sk-e2e');
      expect((await stat(generated)).mode & 0o777).toBe(0o600);
      const double = (await processesReferencing(jenv.dir)).find((p) => p.cmdline.includes(DOUBLE));
      expect(double, 'the double runs').toBeDefined();
      const environ = (await readFile(`/proc/${double?.pid}/environ`, 'utf8')).split('\0');
      expect(environ).toContain('OPENAI_API_KEY=sk-e2e-not-a-real-key');
      // Never written down: not in the registry, not in any log.
      for (const file of [join(jenv.homeDir, 'registry.json'), ...(await readdir(join(jenv.homeDir, 'logs'))).map((f) => join(jenv.homeDir, 'logs', f))]) {
        expect(await readFile(file, 'utf8'), file).not.toContain('sk-e2e-not-a-real-key');
      }
      await cli(jenv, ['stop-all']);
    });
  }, TEST_TIMEOUT_MS);
});
