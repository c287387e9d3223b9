import { join } from 'node:path';
import { BackendProcess } from '../src/fleet/backend-process.js';
import type { ConnectionMode, LaunchPlan } from '../src/fleet/types.js';
import { silentLogger } from '../src/shared/log.js';
import { packageRoot } from '../src/shared/package.js';

/** What every bench section shares: where things are, how a process is started, how a round trip is timed. */
export const root = packageRoot()!;
export const python = join(root, '.venv', 'bin', 'python');
export const cli = join(root, 'dist', 'src', 'cli', 'main.js');
/** The bundled CLI (scripts/bundle.mjs), which the router kernelspec runs. */
export const routerEntry = join(root, 'dist', 'bundle', 'main.js');

export interface LaunchOptions {
  env?: Record<string, string>;
  /** router-writes (default): we write the connection file first; kernel-writes: we wait for the process's. */
  connection?: ConnectionMode;
}

export async function launch(dir: string, id: string, argv: string[], options: LaunchOptions = {}): Promise<BackendProcess> {
  const connectionFile = join(dir, `${id}.json`);
  const plan: LaunchPlan = {
    kernelId: id,
    requirement: { runtime: 'bench', provider: 'none' },
    argv: argv.map((a) => a.replace('{connection_file}', connectionFile)),
    env: { ...options.env, PATH: `${join(root, '.venv', 'bin')}:${process.env.PATH}` },
    connection: options.connection ?? 'router-writes',
    interruptMode: 'signal',
    connectionFile,
    logFile: join(dir, `${id}.log`),
    startupTimeoutMs: 60_000,
    secretEnvKeys: [],
  };
  return BackendProcess.launch(plan, { logger: silentLogger() });
}

/** `n` sequential calls of `once`, each timed in milliseconds; ascending. */
export async function roundTrips(n: number, once: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await once();
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return times.sort((a, b) => a - b);
}

/** The router as Jupyter launches it; it reads which backend to start from routerEnv's config. */
export const routerArgv = [process.execPath, routerEntry, 'router', '--connection-file', '{connection_file}', '--log-level', 'warn'];

export function routerEnv(home: string, config: string): Record<string, string> {
  return {
    LLMSPELL_FLEET_HOME: home,
    LLMSPELL_FLEET_CONFIG: config,
    // One private backend per router: the comparison is one hop, not the fleet's start-up path.
    LLMSPELL_FLEET_MODE: 'local',
  };
}
