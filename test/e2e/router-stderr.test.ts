/**
 * A quiet, human terminal (issue 13, item 4): jupyter console prints a kernel's stderr, so a
 * router whose default backend cannot start must not print its JSON log there on every
 * keystroke. Real jupyter_client KernelManager (as jupyter console starts kernels) on the
 * installed kernelspec with the default config (lua through llmspell, which is not on PATH):
 * many is_complete and complete requests (which never start the failed backend again) and a few
 * cells (which do, and fail again), then the kernel's stderr holds one human line per
 * distinct problem naming the log file, and the log file holds the JSON.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, REPO_ROOT, runPython, withJupyterEnv, type CheckResult } from '../helpers/e2e.js';
import { cli } from '../helpers/fleet-env.js';

const REQUESTS = 25;
const CELLS = 3;

describe('router stderr', () => {
  it('a default backend that cannot start: one human line on stderr naming the log file, however many requests; the JSON only in the log file', async () => {
    await withJupyterEnv(async (jenv) => {
      // No llmspell anywhere on PATH, whatever the machine has installed.
      jenv.env.PATH = [join(REPO_ROOT, '.venv', 'bin'), join(REPO_ROOT, 'node_modules', '.bin'), dirname(process.execPath), '/usr/bin', '/bin'].join(':');
      for (const name of ['LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER', 'LLMSPELL_FLEET_MODE', 'LLMSPELL_FLEET_CONFIG']) delete jenv.env[name];
      await cli(jenv, ['install', '--prefix', jenv.dir]);
      const stderrFile = join(jenv.dir, 'kernel-stderr.txt');
      const run = await runPython<CheckResult>('quiet_stderr_check.py', ['llmspell-fleet', stderrFile, String(REQUESTS), String(CELLS)], { env: jenv.env, timeoutMs: 120_000 });
      const why = describeRun('quiet_stderr_check', run);
      expectChecksPassed(run, ['ready', 'every_request_answered', 'shutdown'], why);

      const stderr = readFileSync(stderrFile, 'utf8');
      const lines = stderr.split('\n').filter((l) => l.trim() !== '');
      const context = `kernel stderr:\n${stderr}`;
      expect(lines.filter((l) => l.includes('"level"') || l.trimStart().startsWith('{')), context).toEqual([]);
      for (const line of lines) expect(line, context).toMatch(/^llmspell-fleet: .+ \(details: \/.+\.log\)$/);
      expect(new Set(lines).size, `a line said twice: ${context}`).toBe(lines.length);
      const cannotStart = lines.filter((l) => l.includes('cannot start lua/openai backend'));
      expect(cannotStart, context).toHaveLength(1);
      expect(cannotStart[0], 'the line says why').toContain('"llmspell" was not found on PATH');

      const logFile = /\(details: (\/.+\.log)\)$/.exec(cannotStart[0]!)![1]!;
      expect(dirname(logFile)).toBe(join(jenv.homeDir, 'logs'));
      expect(statSync(logFile).mode & 0o777).toBe(0o600);
      expect(statSync(dirname(logFile)).mode & 0o777).toBe(0o700);
      const records = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { msg: string; requirement?: string });
      const unavailable = records.filter((r) => r.msg === 'backend unavailable' && r.requirement === 'lua/openai');
      // The start at launch and one per cell (typing never starts it again): the log has each
      // attempt, the terminal had one line.
      expect(unavailable.length, `log file ${logFile}`).toBe(1 + CELLS);
    }, 60_000);
  }, 180_000);
});
