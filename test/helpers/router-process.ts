/**
 * A router started as Jupyter starts a kernel (the CLI's `router` with a connection file), with
 * a fleet.toml of its own: for the e2e tests of what a client hears when things go wrong
 * (router-start-errors, router-backend-death). Both backend modes can be asked for.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectionInfo } from '../../src/wire/connection-file.js';
import { REPO_ROOT, type JupyterEnv } from './e2e.js';
import { stopFleetManager, writeClientConnectionFile } from './fleet-env.js';
import { waitForNoProcesses } from './processes.js';

export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
export const FLOOD_KERNEL = join(REPO_ROOT, 'test', 'fixtures', 'flood-kernel.mjs');
export const TEST_TIMEOUT_MS = 150_000;

export type Mode = 'fleet' | 'local';
export const MODES = ['fleet', 'local'] as const;

export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A fleet.toml: defaults, then one runtime per entry (argv as given), and a provider "none". */
export function toml(defaultRuntime: string, runtimes: Record<string, string[]>): string {
  const lines = [`default_runtime = "${defaultRuntime}"`, 'default_provider = "none"', 'linger_seconds = 0', '[providers.none]'];
  for (const [name, argv] of Object.entries(runtimes)) lines.push(`[runtimes.${name}]`, `argv = ${JSON.stringify(argv)}`);
  return lines.join('\n') + '\n';
}

export interface Router {
  child: ChildProcess;
  info: ConnectionInfo;
  connectionFile: string;
  config: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log(): string;
}

export async function startRouter(jenv: JupyterEnv, options: { config: string; args?: string[]; mode?: Mode; beforeStart?: (info: ConnectionInfo) => Promise<void> }): Promise<Router> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npx tsc -p tsconfig.json" first`);
  const config = join(jenv.dir, 'fleet.toml');
  await writeFile(config, options.config);
  const { file: connectionFile, info } = await writeClientConnectionFile(jenv);
  const env: NodeJS.ProcessEnv = { ...jenv.env, LLMSPELL_FLEET_CONFIG: config, JPY_PARENT_PID: String(process.pid) };
  for (const name of ['LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER', 'LLMSPELL_FLEET_MODE']) delete env[name];
  if (options.mode === 'local') env.LLMSPELL_FLEET_MODE = 'local';
  await options.beforeStart?.(info);
  const child = spawn(process.execPath, [CLI, 'router', '--connection-file', connectionFile, ...(options.args ?? [])], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => stderr.push(b));
  child.stdout!.resume();
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const log = () => {
    const file = join(jenv.homeDir, 'logs', `router-${child.pid}.log`);
    const text = existsSync(file) ? readFileSync(file, 'utf8') : `(no ${file})`;
    return `router stderr:\n${Buffer.concat(stderr).toString('utf8')}\nrouter log (tail):\n${text.slice(-6000)}`;
  };
  return { child, info, connectionFile, config, exit, log };
}

/**
 * Starts a router, runs `body`, then stops whatever is left and checks that nothing the test
 * started still runs; a failure in `body` is never masked by one in that cleanup.
 */
export async function withRouter(jenv: JupyterEnv, options: Parameters<typeof startRouter>[1], body: (router: Router) => Promise<void>): Promise<void> {
  const router = await startRouter(jenv, options);
  try {
    await body(router);
  } catch (error) {
    await finish(jenv, router).catch((cleanupError: unknown) => console.error(`[router-errors] cleanup after a failure: ${String(cleanupError)}`));
    throw error;
  }
  await finish(jenv, router);
}

/** Stops a router that is still running (SIGTERM, as VS Code does), then checks nothing is left. */
export async function finish(jenv: JupyterEnv, router: Router): Promise<void> {
  if (router.child.exitCode === null && router.child.signalCode === null) {
    router.child.kill('SIGTERM');
    await within(router.exit, 30_000, 'router to exit on SIGTERM').catch(() => router.child.kill('SIGKILL'));
  }
  await stopFleetManager(jenv.homeDir);
  await waitForNoProcesses(jenv.dir, 60_000);
}
