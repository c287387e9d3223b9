/**
 * What a session shows of its backends (issue 13, items 2 and 3), through real clients:
 * jupyter_client starts the installed llmspell-fleet kernelspec (a real router, sharing through
 * the real fleet manager) and `llmspell-fleet list` is the real CLI. Backends: ipykernel
 * (python, the default), and the flood-kernel fixture as runtime "flood" and as runtime "gated",
 * which binds only once the test creates its gate file, so "starting" and "restarting" last
 * exactly as long as the test needs to look at them. Restarts are off (router.restart_limit = 0)
 * so that a killed backend stays dead until a cell asks for it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, makeJupyterEnv, REPO_ROOT, runPython, type CheckResult, type JupyterEnv } from '../helpers/e2e.js';
import { cli, CLI, stopFleetManager } from '../helpers/fleet-env.js';
import { waitForNoProcesses } from '../helpers/processes.js';

const FLOOD = join(REPO_ROOT, 'test', 'fixtures', 'flood-kernel.mjs');

let jenv: JupyterEnv;
let gate: string;

function fleetToml(): string {
  const flood = JSON.stringify([process.execPath, FLOOD, '{connection_file}']);
  return [
    'default_runtime = "python"',
    'default_provider = "openai"',
    'linger_seconds = 0',
    '[router]',
    'restart_limit = 0',
    '[runtimes.flood]',
    `argv = ${flood}`,
    '[runtimes.gated]',
    `argv = ${flood}`,
    `env = { FLOOD_KERNEL_START_GATE = ${JSON.stringify(gate)} }`,
    '',
  ].join('\n');
}

async function scenario(name: string, expected: readonly string[]): Promise<void> {
  const run = await runPython<CheckResult>('session_view_check.py', [name], {
    env: { ...jenv.env, FLEET_NODE: process.execPath, FLEET_CLI: CLI, FLEET_DIR: jenv.dir, FLEET_GATE: gate },
    timeoutMs: 170_000,
  });
  try {
    expectChecksPassed(run, [...expected, 'kernel_shut_down'], describeRun(`session_view_check ${name}`, run));
  } finally {
    // linger 0: the backends stop with the router; the manager goes too, so the next test starts from nothing.
    await stopFleetManager(jenv.homeDir);
    await waitForNoProcesses(jenv.dir, 60_000);
  }
}

describe('what a session shows of its backends: true status and list, progress while one starts', () => {
  beforeAll(async () => {
    jenv = await makeJupyterEnv();
    gate = join(jenv.dir, 'gate');
    for (const name of ['LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER', 'LLMSPELL_FLEET_MODE', 'LLMSPELL_FLEET_CONFIG', 'JPY_SESSION_NAME']) delete jenv.env[name];
    await cli(jenv, ['install', '--prefix', jenv.dir]);
    await writeFile(join(jenv.homeDir, 'fleet.toml'), fleetToml(), { mode: 0o600 });
  }, 60_000);

  afterAll(async () => {
    await jenv?.cleanup();
  });

  it('Run All: `%llmspell status` sent with a cell whose backend is not started yet answers after that cell, and says ready', async () => {
    await scenario('run-all-status', ['cell_ran_on_its_backend', 'status_answered_after_the_cell_above', 'status_says_ready']);
  }, 180_000);

  it('`llmspell-fleet list` says busy while a cell runs (until the test releases it), ready before and after', async () => {
    await scenario('busy', ['list_ready_before', 'list_busy_during_cell', 'list_table_says_busy', 'cell_finished', 'list_ready_after_cell']);
  }, 180_000);

  it('a cell waiting for its backend shows "starting … backend…", updated with the start time before its result; the next cell shows nothing; killed: dead, started again: restarting', async () => {
    await scenario('start-progress', [
      'display_while_starting',
      'list_says_starting',
      'display_updated_with_the_start_time',
      'update_before_the_result',
      'second_cell_shows_nothing',
      'status_says_ready',
      'list_says_dead',
      'status_says_dead',
      'display_when_started_again',
      'list_says_restarting',
      'works_after_restart',
      'list_ready_after_restart',
    ]);
  }, 180_000);
});
