import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, runPython, withJupyterEnv, type CheckResult } from '../helpers/e2e.js';
import { FLEET_PYTHON, setupFleet } from '../helpers/fleet-env.js';
import { waitForNoProcesses } from '../helpers/processes.js';

const PER_CHANNEL = 10_000;

/** The router's own count of what it refused, from the stats it logs when it stops. */
async function rejectedCount(homeDir: string): Promise<number> {
  const logs = join(homeDir, 'logs');
  let total = 0;
  for (const name of (await readdir(logs)).filter((n) => n.startsWith('router-'))) {
    for (const line of (await readFile(join(logs, name), 'utf8')).split('\n')) {
      if (!line.includes('"router stopping"')) continue;
      const rejected = (JSON.parse(line) as { stats: { rejected: Record<string, number> } }).stats.rejected;
      total += Object.entries(rejected).filter(([k]) => k.startsWith('frontend.')).reduce((n, [, v]) => n + v, 0);
    }
  }
  return total;
}

describe('router under fuzzed input (ipykernel backend)', () => {
  it(`refuses ${3 * PER_CHANNEL} random and mutated messages on shell, control and stdin; a valid execute still works`, async () => {
    await withJupyterEnv(async (jenv) => {
      await setupFleet(jenv, { mode: 'local' });
      const r = await runPython<CheckResult & { sent: number }>('fuzz.py', [FLEET_PYTHON, String(PER_CHANNEL)], { env: jenv.env, timeoutMs: 110_000 });
      const result = expectChecksPassed(r, ['router_alive', 'hb_echoes_random_payloads', 'valid_execute_after_fuzz', 'nothing_reached_the_backend'], describeRun('fuzz', r));
      expect(result.sent).toBe(3 * PER_CHANNEL);
      await waitForNoProcesses(jenv.dir, 60_000);
      // Every fuzz message was refused and counted (none forwarded, none lost uncounted).
      expect(await rejectedCount(jenv.homeDir)).toBe(3 * PER_CHANNEL);
    });
  }, 120_000);
});
