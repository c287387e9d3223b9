/**
 * A fleet home in a temp dir whose runtimes are the llmspell stand-in (kernel-writes, `--port 0`),
 * for manager tests. Every backend's argv holds the temp dir (its connection file), which is how
 * `done()` proves nothing was left running.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach } from 'vitest';
import type { FleetManager } from '../../../../src/fleet/manager/fleet.js';
import { parseFleetConfig } from '../../../../src/fleet/config.js';
import type { FleetConfig } from '../../../../src/fleet/types.js';
import { waitForNoProcesses } from '../../../helpers/processes.js';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const STANDIN = join(ROOT, 'test/fixtures/llmspell-standin.mjs');
export const CRASH = join(ROOT, 'test/fixtures/crash-on-start.mjs');

export function standinToml(options: { linger?: number; extra?: string } = {}): string {
  const argv = JSON.stringify([process.execPath, STANDIN, 'kernel', 'start', '--port', '0', '--id', '{kernel_id}', '--connection-file', '{connection_file}']);
  return [
    'default_runtime = "standin"',
    'default_provider = "openai"',
    `linger_seconds = ${options.linger ?? 0}`,
    '[runtimes.standin]',
    `argv = ${argv}`,
    'connection = "kernel-writes"',
    'startup_timeout = 20',
    '[runtimes.crash]',
    `argv = ${JSON.stringify([process.execPath, CRASH, '{connection_file}'])}`,
    'connection = "kernel-writes"',
    '[providers.openai]',
    'env = { LLMSPELL_PROVIDER = "openai" }',
    '[providers.anthropic]',
    'env = { LLMSPELL_PROVIDER = "anthropic", ANTHROPIC_API_KEY = "sk-test-secret-value" }',
    options.extra ?? '',
  ].join('\n');
}

export interface TempFleet {
  /** The temp dir: the marker that finds this test's processes. */
  dir: string;
  /** The fleet home (0700, created on demand by the code under test). */
  home: string;
  configFile: string;
  config(): FleetConfig;
  /** Waits until no process references the dir (killing and failing otherwise), then removes it. */
  done(timeoutMs?: number): Promise<void>;
}

export async function makeTempFleet(options: { linger?: number } = {}): Promise<TempFleet> {
  const dir = await mkdtemp(join(tmpdir(), 'fleet-manager-'));
  const home = join(dir, 'home');
  const configFile = join(dir, 'fleet.toml');
  const toml = standinToml(options);
  await writeFile(configFile, toml);
  return {
    dir,
    home,
    configFile,
    config: () => parseFleetConfig(toml, configFile),
    done: async (timeoutMs = 10_000) => {
      try {
        await waitForNoProcesses(dir, timeoutMs);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Per test: a fresh temp fleet (linger 0) and a list for the FleetManagers the test makes; after
 * it they are all stopped and closed, and `done()` proves nothing was left running.
 * `closeKeepingBackends(m)` closes one early and leaves its backends to the next manager (adoption).
 */
export function useTempFleet(): { readonly fleet: TempFleet; readonly managers: FleetManager[]; closeKeepingBackends(m: FleetManager): Promise<void> } {
  const state = { fleet: undefined as unknown as TempFleet, managers: [] as FleetManager[] };
  beforeEach(async () => {
    state.fleet = await makeTempFleet({ linger: 0 });
    state.managers = [];
  });
  afterEach(async () => {
    for (const m of state.managers) await m.stopAll().catch(() => undefined);
    for (const m of state.managers) await m.close();
    await state.fleet.done();
  });
  return {
    get fleet() {
      return state.fleet;
    },
    get managers() {
      return state.managers;
    },
    async closeKeepingBackends(m: FleetManager) {
      // Not through indexOf: a manager this test does not hold must fail here, not untrack another.
      if (!state.managers.includes(m)) throw new Error('closeKeepingBackends: not a manager of this test (push it to managers first)');
      state.managers = state.managers.filter((other) => other !== m);
      await m.close();
    },
  };
}
