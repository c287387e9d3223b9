/**
 * The session as a client sees it through the router (issue 13, items 1 and 5), with real
 * clients and real kernels: one execution count across ipykernel, tslab and the router's own
 * magic, history of the session with those numbers; and, when the default backend cannot
 * start, replies to what a console sends while the user types that are exactly what the
 * messaging spec allows (jupyter_console's own handling does not warn), with the reason told once (and for each failing cell).
 */
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { llmspellDoubleBin } from '../helpers/llmspell-double.js';
import { describe, expect, it } from 'vitest';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, runPython, withJupyterEnv, type CheckResult } from '../helpers/e2e.js';
import { CLI, FLEET_PYTHON, setupFleet, stopFleetManager, writeClientConnectionFile } from '../helpers/fleet-env.js';
import { waitForNoProcesses } from '../helpers/processes.js';

const TEST_TIMEOUT_MS = 180_000;
const GHOST = '/nonexistent/llmspell-fleet-test/ghost-kernel';
/** Variables that would decide a requirement or the mode if the developer's shell had them set. */
const UNSET = ['LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER', 'KERNEL_LLMSPELL_RUNTIME', 'KERNEL_LLMSPELL_PROVIDER', 'LLMSPELL_FLEET_MODE', 'LLMSPELL_FLEET_CONFIG', 'JPY_SESSION_NAME', 'OPENAI_API_KEY', 'LLMSPELL_PROVIDER_OPENAI_API_KEY'];

interface Cell { code: string; input: unknown[]; result: unknown[]; reply: { execution_count?: unknown } | null }

/** The session_count_check scenario; with `lua`, llmspell (the test double, first on PATH) behind the adapter takes part too. */
async function sessionCount(options: { lua: boolean }): Promise<void> {
  await withJupyterEnv(async (jenv) => {
    for (const name of UNSET) delete jenv.env[name];
    if (options.lua) {
      jenv.env.PATH = `${await llmspellDoubleBin(jenv.dir)}:${jenv.env.PATH ?? ''}`;
    }
    await setupFleet(jenv, { defaultRuntime: 'python' });
    try {
      const run = await runPython<CheckResult & { cells: Cell[] }>('session_count_check.py', [FLEET_PYTHON, ...(options.lua ? ['--lua'] : [])], { env: jenv.env, timeoutMs: 150_000 });
      const why = describeRun('session_count_check', run);
      const result = expectChecksPassed(run, [
        'history_at_start_answered',
        'every_cell_answered',
        'every_cell_ok',
        'javascript_cells_ran_in_tslab',
        'execute_input_counts',
        'execute_reply_counts',
        'execute_result_counts',
        'history_tail_session_numbers',
        'history_range_of_the_session',
        'silent_request_reads_the_count',
        'next_cell_goes_on',
      ], why);
      expect(result.cells.map((c) => c.reply?.execution_count), why).toEqual(Array.from({ length: options.lua ? 8 : 6 }, (_, i) => i + 1));
    } finally {
      await stopFleetManager(jenv.homeDir);
    }
    await waitForNoProcesses(jenv.dir, 60_000);
  });
}

describe('one execution count per session, through jupyter_client', () => {
  it('python, javascript and a %llmspell magic sent at once read 1, 2, 3...; history tail lists them with those numbers', async () => {
    await sessionCount({ lua: false });
  }, TEST_TIMEOUT_MS);

  it('lua through the llmspell adapter (the test double) takes its place in the same numbering', async () => {
    await sessionCount({ lua: true });
  }, TEST_TIMEOUT_MS);
});

interface UnavailableResult extends CheckResult {
  replies: Record<string, { msg_type: string; content: Record<string, unknown> }>;
  notices: string[];
  console_warnings: string[];
  console_is_complete: unknown;
}

describe('replies when the default backend cannot start', () => {
  it('is_complete unknown, empty completion, inspection, history and comms, a cell error with a count; no console warning; the reason once per typing and per cell', async () => {
    await withJupyterEnv(async (jenv) => {
      for (const name of UNSET) delete jenv.env[name];
      const config = join(jenv.dir, 'fleet.toml');
      await writeFile(config, ['default_runtime = "ghost"', 'default_provider = "none"', 'linger_seconds = 0', '[providers.none]', '[runtimes.ghost]', `argv = ${JSON.stringify([GHOST, '{connection_file}'])}`, ''].join('\n'));
      const { file } = await writeClientConnectionFile(jenv);
      const env = { ...jenv.env, LLMSPELL_FLEET_CONFIG: config, LLMSPELL_FLEET_MODE: 'local', JPY_PARENT_PID: String(process.pid) };
      const router = spawn(process.execPath, [CLI, 'router', '--connection-file', file], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      const stderr: Buffer[] = [];
      router.stderr!.on('data', (b: Buffer) => stderr.push(b));
      const exited = new Promise<number | null>((resolve) => router.once('exit', (code) => resolve(code)));
      try {
        const run = await runPython<UnavailableResult>('unavailable_check.py', [file, GHOST], { env: jenv.env, timeoutMs: 120_000 });
        const why = `${describeRun('unavailable_check', run)}\nrouter stderr:\n${Buffer.concat(stderr).toString('utf8').slice(-4000)}`;
        const result = expectChecksPassed(run, { exactly: ['ready', 'replies', 'console_is_complete', 'iopub_until_last_idle'] }, why);
        const r = result.replies;
        expect(r.is_complete, why).toEqual({ msg_type: 'is_complete_reply', content: { status: 'unknown' } });
        expect(r.complete, why).toEqual({ msg_type: 'complete_reply', content: { status: 'ok', matches: [], cursor_start: 3, cursor_end: 3, metadata: {} } });
        expect(r.inspect, why).toEqual({ msg_type: 'inspect_reply', content: { status: 'ok', found: false, data: {}, metadata: {} } });
        expect(r.history, why).toEqual({ msg_type: 'history_reply', content: { status: 'ok', history: [] } });
        expect(r.comm_info, why).toEqual({ msg_type: 'comm_info_reply', content: { status: 'ok', comms: {} } });
        expect(r.execute?.msg_type, why).toBe('execute_reply');
        expect(r.execute?.content, why).toMatchObject({ status: 'error', ename: 'FleetError', execution_count: 1 });
        expect(String(r.execute?.content.evalue), why).toContain(GHOST);
        // jupyter_console reads "unknown" as "run it" and says nothing (it warned on status "error").
        expect(result.console_is_complete, why).toEqual([false, '']);
        expect(result.console_warnings, why).toEqual([]);
        // Seven requests failed for one reason: it is told once for the six a console sends while
        // the user types, and once more for the cell (each failing cell says why).
        expect(result.notices.length, why).toBe(2);
        expect(await exited, why).toBe(0);
      } finally {
        if (router.exitCode === null && router.signalCode === null) router.kill('SIGTERM');
        await exited;
      }
      await waitForNoProcesses(jenv.dir, 60_000);
    });
  }, TEST_TIMEOUT_MS);
});
