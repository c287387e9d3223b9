/**
 * `jupyter console` as a person uses it: the full prompt_toolkit UI on a real pseudo-terminal
 * (pexpect, test/e2e/py/console_pty_check.py), the llmspell-fleet kernelspec routed to
 * ipykernel. Tab completion comes back through the router, Ctrl-C while a cell runs interrupts
 * the backend and the console keeps working, `exit` leaves and nothing is left running.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshArtifactsDir } from '../helpers/artifacts.js';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, runPython, withJupyterEnv, type CheckResult } from '../helpers/e2e.js';
import { FLEET_PYTHON, setupFleet, stopFleetManager } from '../helpers/fleet-env.js';
import { waitForNoProcesses } from '../helpers/processes.js';

describe('jupyter console on a pseudo-terminal, through the router', () => {
  it('completes a Python name with Tab, interrupts a running cell with Ctrl-C, keeps working, exits', async () => {
    const artifacts = await freshArtifactsDir('jupyter-console');
    const transcript = join(artifacts, 'terminal.txt');
    await withJupyterEnv(async (jenv) => {
      await setupFleet(jenv, { defaultRuntime: 'python' });
      const run = await runPython<CheckResult>('console_pty_check.py', [FLEET_PYTHON, '--transcript', transcript], {
        env: jenv.env,
        timeoutMs: 150_000,
      });
      console.log(`[jupyter-console] terminal transcript: ${transcript}`);
      const why = describeRun('console_pty_check', run);
      expectChecksPassed(run, { exactly: ['first_prompt', 'completes_one_name', 'lists_candidates', 'interrupts_running_cell', 'keeps_working', 'exits'] }, why);
      // What the person saw, escape sequences removed: the traceback names the interrupted cell.
      const text = await readFile(transcript, 'utf8');
      expect(text).toMatch(/KeyboardInterrupt\s+Traceback/);
      expect(text).toContain('Out[2]: 11');
      expect(text).not.toMatch(/NameError|SyntaxError|Traceback[\s\S]*Traceback/);
      // Console, router, backend and (stopped here) the test's manager: nothing may be left.
      await stopFleetManager(jenv.homeDir);
      await waitForNoProcesses(jenv.dir, 60_000);
    }, 60_000);
  }, 200_000);
});
