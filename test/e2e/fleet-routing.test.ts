/**
 * The fleet end to end (issue 3, item 9): real jupyter_client KernelManagers start the
 * installed llmspell-fleet kernelspecs, i.e. real routers, which share backends through the
 * real fleet manager (autostarted by the first router). Backends are ipykernel and tslab
 * (python and javascript, the built-in runtimes) and the llmspell stand-in
 * (test/fixtures/llmspell-standin.mjs, launched by llmspell's contract) as runtime "lua".
 *
 * Each scenario is one run of test/e2e/py/fleet_check.py, which records named checks; a test
 * fails on any failed check and names it. One Jupyter environment serves the whole file, but
 * every test ends with the manager stopped and no process of the environment left, so the
 * next test starts from nothing (and autostarts its own manager).
 * FLEET_E2E_VERBOSE=1 prints each scenario's progress (checks with details, router start and
 * shutdown times) also when it passes.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, makeJupyterEnv, REPO_ROOT, runPython, type JupyterEnv, type RunPythonResult } from '../helpers/e2e.js';
import { cli, CLI, setupFleet, stopFleetManager } from '../helpers/fleet-env.js';
import { isFleetDaemon, processesReferencing, waitForNoProcesses } from '../helpers/processes.js';

const STANDIN = join(REPO_ROOT, 'test', 'fixtures', 'llmspell-standin.mjs');
/** llmspell's launch argv (src/fleet/defaults.ts LLMSPELL_ARGV) with the stand-in for llmspell and no {config}. */
const STANDIN_ARGV = ['node', STANDIN, 'kernel', 'start', '--port', '0', '--id', '{kernel_id}', '--connection-file', '{connection_file}'];

/** python (ipykernel) by default, javascript (tslab) built in, lua = the stand-in; two providers. */
function fleetToml(lingerSeconds: number): string {
  return [
    'default_runtime = "python"',
    'default_provider = "openai"',
    `linger_seconds = ${lingerSeconds}`,
    '',
    '[runtimes.lua]',
    `argv = ${JSON.stringify(STANDIN_ARGV)}`,
    'connection = "kernel-writes"',
    'language = "lua"',
    '',
    '[providers.openai]',
    'env = { LLMSPELL_PROVIDER = "openai" }',
    '',
    '[providers.anthropic]',
    'env = { LLMSPELL_PROVIDER = "anthropic" }',
    '',
  ].join('\n');
}

/** Variables that would decide a requirement or the mode if the developer's shell had them set. */
const UNSET = [
  'LLMSPELL_RUNTIME',
  'LLMSPELL_PROVIDER',
  'KERNEL_LLMSPELL_RUNTIME',
  'KERNEL_LLMSPELL_PROVIDER',
  'LLMSPELL_FLEET_MODE',
  'LLMSPELL_FLEET_CONFIG',
  'JPY_SESSION_NAME',
];

interface FleetResult {
  ok: boolean;
  scenario: string;
  checks: Record<string, { ok: boolean; detail: unknown }>;
  seconds?: number;
  attachment_dropped_seconds?: number;
  timing?: { routers: number; launch_seconds: number; all_ready_seconds: number; shutdown_seconds?: number };
  [key: string]: unknown;
}

let jenv: JupyterEnv;

function log(message: string): void {
  console.log(`[e2e] ${message}`);
}

/**
 * Runs one scenario and asserts every check passed, then that its routers and backends are
 * gone (linger 0 stopped them: only the manager and the router host may be left). On failure it also stops the
 * manager and clears the environment; on success the test ends with nothingLeft().
 */
async function scenario(name: string, expected: readonly string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<FleetResult> {
  let run: RunPythonResult<FleetResult> | undefined;
  try {
    run = await runPython<FleetResult>('fleet_check.py', [name], {
      env: { ...jenv.env, FLEET_NODE: process.execPath, FLEET_CLI: CLI, FLEET_DIR: jenv.dir, ...extraEnv },
      timeoutMs: 170_000,
    });
    const why = describeRun(`fleet_check ${name}`, run);
    // Each test names the checks that prove its title: a renamed or dropped one must not pass silently.
    const result = expectChecksPassed(run, expected, why);
    const left = (await processesReferencing(jenv.dir)).filter((p) => !isFleetDaemon(p));
    expect(left, 'routers and backends still running after the scenario (linger_seconds = 0)').toEqual([]);
    log(`fleet ${name}: ${run.durationMs} ms`);
    return result;
  } catch (error) {
    await stopManager().catch(() => undefined);
    await waitForNoProcesses(jenv.dir, 60_000).catch((e: unknown) => console.error(`[e2e] after the failure: ${String(e)}`));
    throw error;
  } finally {
    if (run !== undefined && (run.code !== 0 || process.env.FLEET_E2E_VERBOSE)) console.error(`[e2e] fleet_check ${name} stderr:\n${run.stderr.slice(-8000)}`);
  }
}

/** The end of every test: the manager stops (with whatever it still owns), nothing is left. */
async function nothingLeft(): Promise<void> {
  await stopManager();
  await waitForNoProcesses(jenv.dir, 60_000);
}

/** The manager's own `shutdown` op; resolves once it has stopped its backends and exited. */
const stopManager = () => stopFleetManager(jenv.homeDir);

describe('the fleet through jupyter_client: sharing, routing, concurrency, manager death, linger, restart', () => {
  beforeAll(async () => {
    jenv = await makeJupyterEnv();
    for (const name of UNSET) delete jenv.env[name];
    // kernelspecs llmspell-fleet and llmspell-fleet-javascript-openai, and fleet.toml in the fleet home
    await setupFleet(jenv, { toml: fleetToml(0) });
    await cli(jenv, ['install', '--prefix', jenv.dir, '--runtime', 'lua', '--provider', 'anthropic']);
  }, 60_000);

  afterAll(async () => {
    await jenv?.cleanup();
  });

  it('two routers with the same requirement share one backend: same pid, same variables, "shared by 2 clients"', async () => {
    await scenario('share', [
      'variable_set_by_A_read_by_B',
      'same_backend_pid',
      'status_A_shared_by_2',
      'status_B_shared_by_2',
      'list_one_backend_2_clients',
      'backend_alive_after_A_left',
      'B_still_sees_state',
      'list_1_client_after_A_left',
      'backend_stopped_after_last_client',
    ]);
    await nothingLeft();
  }, 180_000);

  it("a client's interrupt reaches the shared backend; a client's shutdown (interrupt + shutdown_request) never interrupts another client's cell", async () => {
    await scenario('interrupts', ['shared_backend', 'A_interrupt_reaches_the_shared_backend', 'B_cell_running', 'B_cell_not_interrupted_by_A_shutdown', 'B_keeps_working', 'backend_stopped']);
    await nothingLeft();
  }, 180_000);

  it("different providers get different processes with the provider's env, launched by llmspell's contract", async () => {
    const result = await scenario('providers', [
      'openai_provider_env',
      'anthropic_provider_env',
      'openai_port_0',
      'openai_no_daemon',
      'openai_kernel_start',
      'anthropic_connection_file_in_fleet_home',
      'different_processes',
      'relays_execute',
      'second_openai_client_shares_the_process',
      'list_two_backends',
      'standin_survives_other_client_shutdown',
      'both_stopped',
    ]);
    log(`providers: ${JSON.stringify(result.standin)}`);
    await nothingLeft();
  }, 180_000);

  it('routes by message metadata, flat key, tag, cellId notebook, directive (stripped), magic, argv, notebook, env, project file, with precedence', async () => {
    // One check per source, as the issue lists them.
    await scenario('routing', [
      'message_metadata_llmspell',
      'message_metadata_flat_key',
      'message_metadata_cell_tag',
      'vscode_cellid_notebook_metadata',
      'directive_routes_to_javascript',
      'directive_routes_to_python',
      'directive_stripped_for_python',
      'directive_stripped_for_lua_standin',
      'magic_use_routes_later_cells',
      'magic_use_python_routes_back',
      'argv_alias_kernelspec_routes_to_javascript',
      'jpy_session_name_notebook_routes_to_javascript',
      'env_LLMSPELL_RUNTIME_routes_to_javascript',
      'env_KERNEL_LLMSPELL_RUNTIME_routes_to_javascript',
      'project_file_walking_up_from_cwd_routes_to_javascript',
      'directive_beats_metadata',
      'metadata_beats_sticky',
      'chain_sticky_beats_argv',
      'chain_metadata_beats_sticky',
      'chain_directive_beats_metadata',
      'only_three_backends_all_along',
      'both_backends_stopped',
    ]);
    await nothingLeft();
  }, 240_000);

  it('20 routers started at once for one requirement get exactly one backend, and 20 cells run on it at once each answer their own client', async () => {
    const result = await scenario(
      'many',
      ['one_backend_pid', 'list_one_backend_with_all_clients', 'one_standin_process', 'concurrent_executes_each_answered_with_own_output', 'routers_exited', 'backend_stopped'],
      { FLEET_ROUTERS: '20' },
    );
    log(`20 routers: ${JSON.stringify(result.timing)}`);
    await nothingLeft();
  }, 240_000);

  it('SIGKILL to the manager: both routers keep working, a new manager adopts the backend, linger 0 stops it after both leave', async () => {
    await scenario('manager-kill', [
      'shared_backend',
      'manager_killed',
      'backend_survives',
      'A_works_without_manager',
      'B_works_without_manager',
      'new_manager_adopted_backend_with_both_routers',
      'one_new_manager',
      'A_still_works',
      'B_still_works',
      'backend_stopped_after_both_left',
      'list_empty',
    ]);
    await nothingLeft();
  }, 180_000);

  it('SIGKILL to one of two routers: the manager drops its attachment, the other keeps the backend, linger 0 stops it after the last leaves', async () => {
    const result = await scenario('router-kill', [
      'shared_backend',
      'router_killed',
      'manager_dropped_the_dead_routers_attachment',
      'backend_survives_for_the_other',
      'B_still_works',
      'backend_stopped_after_last_left',
      'list_empty',
    ]);
    log(`router SIGKILL: attachment dropped after ${JSON.stringify(result.attachment_dropped_seconds)} s`);
    await nothingLeft();
  }, 240_000);

  it('the manager and the shared backend die together: both routers answer and move to a new backend instead of hanging', async () => {
    await scenario('manager-backend-kill', [
      'shared_standin',
      'both_killed',
      'A_answered_after_backend_died',
      'B_answered_after_backend_died',
      'A_works_on_a_new_backend',
      'B_works_on_a_new_backend',
      'new_shared_backend',
    ]);
    await nothingLeft();
  }, 180_000);

  it('linger_seconds = 0 stops a backend as soon as its last client leaves', async () => {
    const result = await scenario('linger0', ['backend_running', 'stopped_when_last_client_left', 'list_empty']);
    log(`linger 0: stopped ${String(result.stop_seconds)} s after the shutdown request`);
    await nothingLeft();
  }, 120_000);

  it('a lingering backend is kept for a router that arrives within linger_seconds; a 2 s linger then stops one, not sooner', async () => {
    // A linger longer than the test, so that the second router cannot miss it on a busy machine;
    // the scenario shortens it to 2 s for the backend it launches next.
    const config = join(jenv.dir, 'fleet-linger.toml');
    await writeFile(config, fleetToml(600), { mode: 0o600 });
    const result = await scenario(
      'linger2',
      [
        'lingers_with_no_client',
        'second_router_gets_the_same_backend',
        'second_router_sees_the_state',
        'second_router_attached_to_the_lingering_backend',
        'long_lingering_backend_stopped',
        'next_router_gets_a_new_backend',
        'stopped_after_linger',
        'not_stopped_before_linger',
        'the_linger_stopped_it',
      ],
      { LLMSPELL_FLEET_CONFIG: config },
    );
    log(`linger: second router ready ${String(result.second_router_ready_after_seconds)} s after the first left; 2 s linger stopped the next ${String(result.stopped_after_seconds)} s after its last router left`);
    await nothingLeft();
  }, 240_000);

  it("a restart by one client restarts the shared backend for the other: 'restarting', state gone, both on the new process", async () => {
    const result = await scenario('restart', [
      'B_reads_A_variable',
      'shared_backend',
      'A_router_relaunched',
      'B_saw_status_restarting',
      'B_state_gone_NameError',
      'B_keeps_working',
      'new_backend_process',
      'A_attached_to_the_new_backend',
      'old_backend_gone',
      'A_and_B_share_again',
      'list_one_backend_2_clients',
      'backend_stopped',
    ]);
    log(`restart: km.restart_kernel took ${String(result.restart_seconds)} s`);
    await nothingLeft();
  }, 180_000);
});
