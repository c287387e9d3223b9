/**
 * BackendProcess's backend log: its modes, what is written there and what never is (secrets).
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/shared/log.js';
import { CRASH, NODE, standinPlan, scriptPlan, launch, launchError, useBackendProcesses } from '../../helpers/backend-process.js';

useBackendProcesses();

describe('logs', () => {
  it('appends output to a 0600 log in a 0700 directory and never logs secret env values', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(s) } });
    const secret = 'sk-test-0123456789-very-secret';
    const p = standinPlan({ env: { OPENAI_API_KEY: secret, LLMSPELL_PROVIDER: 'openai' }, secretEnvKeys: ['OPENAI_API_KEY'] });
    p.argv.push('--trace', `key=${secret}`);
    const backend = await launch(p, { logger });
    // The stand-in writes its banner after the connection file: wait for it (bounded) before stopping.
    const deadline = Date.now() + 10_000;
    while (!(await readFile(p.logFile, 'utf8')).includes('llmspell-standin: kernel') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await backend.stop();
    const text = lines.join('');
    expect(text).toContain('backend spawned');
    expect(text).toContain(backend.pid.toString());
    expect(text).not.toContain(secret);

    expect((await stat(p.logFile)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(p.logFile))).mode & 0o777).toBe(0o700);
    const log = await readFile(p.logFile, 'utf8');
    expect(log).toContain(`starting llmspell/test backend (kernel ${p.kernelId})`);
    expect(log).toContain('llmspell-standin: kernel');
  });

  it('stderrTail holds only this run, not earlier runs appended to the same log', async () => {
    const first = scriptPlan('', { argv: [NODE, CRASH] });
    await launchError(first);
    const second = scriptPlan(`process.stderr.write('second run\\n'); process.exit(5)`, { logFile: first.logFile });
    const error = await launchError(second);
    expect(error.context.exitCode).toBe(5);
    expect(error.context.stderrTail).toBe('second run');
  });
});
