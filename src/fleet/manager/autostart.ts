/**
 * Starting the manager on demand: `node <dist>/src/cli/main.js manager --foreground`, detached
 * into its own session so that Jupyter's signals to a router's group never reach it, with its
 * output appended to <home>/logs/manager.log, and unreferenced so the starter can exit.
 *
 * Not through spawnBackend: that keeps a reference to its child (a router or CLI that autostarts
 * a manager would then never exit), this unreferences it.
 */
import { existsSync } from 'node:fs';
import { chmod, open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FleetError } from '../../shared/errors.js';
import { packageRoot } from '../../shared/package.js';
import { spawnDetached } from '../../shared/process.js';
import { STARTUP_TRACE_VARIABLE, managerTraceFile } from '../../shared/startup-trace.js';
import { ensurePrivateDir, logDir } from '../paths.js';
import { managerLogPath } from './files.js';
import { STASHED_CA_VARIABLE } from '../../shared/extra-ca-certs.js';

type Env = Record<string, string | undefined>;

/**
 * Pure: the built CLI next to this module. Built, this file is dist/src/fleet/manager/autostart.js
 * and the CLI dist/src/cli/main.js; run from sources (vitest), the CLI is the build's, found
 * below the package root. From the bundle (dist/bundle/<chunk>.js, what the router kernelspec
 * runs) it is the same unbundled dist/src/cli/main.js: the manager and the backends' wrappers
 * start from tsc's output, whose start-up time no notebook waits for.
 */
export function cliEntryFor(moduleFile: string, root: string | undefined): string | undefined {
  const managerDir = dirname(moduleFile);
  if (moduleFile.endsWith('.js') && basename(managerDir) === 'manager' && basename(dirname(dirname(managerDir))) === 'src') {
    return resolve(dirname(moduleFile), '..', '..', 'cli', 'main.js');
  }
  return root === undefined ? undefined : join(root, 'dist', 'src', 'cli', 'main.js');
}

export function cliEntry(): string {
  const entry = cliEntryFor(fileURLToPath(import.meta.url), packageRoot());
  if (entry === undefined || !existsSync(entry)) {
    throw new FleetError('MANAGER_UNAVAILABLE', `cannot start the fleet manager: the built CLI ${entry ?? '(dist/src/cli/main.js)'} is missing; run \`npm run build\``, {
      entry,
    });
  }
  return entry;
}

/**
 * Variables that describe one kernel session, not the user: the manager serves every router,
 * so the first router's choices must not leak into it (and through it into every backend).
 * JPY_PARENT_PID in particular would make the manager look like a kernel of that client.
 */
const SESSION_VARIABLES = [
  'JPY_PARENT_PID',
  'JPY_SESSION_NAME',
  'JPY_INTERRUPT_EVENT',
  'LLMSPELL_RUNTIME',
  'LLMSPELL_PROVIDER',
  'KERNEL_LLMSPELL_RUNTIME',
  'KERNEL_LLMSPELL_PROVIDER',
];

/**
 * Node parses the NODE_EXTRA_CA_CERTS bundle when it starts, before running any code (60 to
 * 100 ms here), and the manager makes no TLS connection: it gets the value under this name
 * instead, and puts it back for its backends (restoreSetAsideEnv) before it starts any.
 */
const CA_VARIABLE = 'NODE_EXTRA_CA_CERTS';
export const CA_ASIDE_VARIABLE = STASHED_CA_VARIABLE;

/**
 * Pure: the manager's environment: the starter's, minus session variables, with the home
 * pinned and the CA bundle set aside. A tracing starter (the bench) gets the manager's trace
 * in a file of its own.
 */
export function managerEnv(env: Env, home: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !SESSION_VARIABLES.includes(k)) out[k] = v;
  out.LLMSPELL_FLEET_HOME = home;
  const trace = out[STARTUP_TRACE_VARIABLE];
  if (trace) out[STARTUP_TRACE_VARIABLE] = managerTraceFile(trace);
  const ca = out[CA_VARIABLE];
  if (ca !== undefined) {
    out[CA_ASIDE_VARIABLE] = ca;
    delete out[CA_VARIABLE];
  }
  return out;
}

/** In place: the manager's environment as its starter had it, for the backends it spawns (see CA_ASIDE_VARIABLE). */
export function restoreSetAsideEnv(env: Env): void {
  const ca = env[CA_ASIDE_VARIABLE];
  if (ca === undefined) return;
  env[CA_VARIABLE] = ca;
  delete env[CA_ASIDE_VARIABLE];
}

export interface StartedManager {
  pid: number;
  logFile: string;
  /** Exit code when the started process ends (0: another manager was already there). */
  exited: Promise<number | null>;
}

export async function startManagerProcess(options: { home: string; env: Env }): Promise<StartedManager> {
  const home = await ensurePrivateDir(options.home);
  await ensurePrivateDir(logDir(home));
  const logFile = managerLogPath(home);
  const log = await open(logFile, 'a', 0o600);
  try {
    await chmod(logFile, 0o600);
    await log.appendFile(`--- llmspell-fleet ${new Date().toISOString()}: starting the fleet manager (by pid ${process.pid}) ---\n`);
    const child = spawnDetached(process.execPath, [cliEntry(), 'manager', '--foreground'], {
      outputFd: log.fd,
      env: managerEnv(options.env, home),
      // Never the starter's cwd: the manager outlives it, and must not pin a directory it may delete.
      cwd: home,
    });
    const exited = new Promise<number | null>((resolvePromise) => {
      child.once('exit', (code) => resolvePromise(code));
      child.once('error', () => resolvePromise(-1));
    });
    child.unref();
    if (child.pid === undefined) {
      throw new FleetError('MANAGER_UNAVAILABLE', `could not start the fleet manager (${process.execPath}); see ${logFile}`, { logFile });
    }
    return { pid: child.pid, logFile, exited };
  } finally {
    await log.close();
  }
}
