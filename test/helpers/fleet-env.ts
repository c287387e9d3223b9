import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { routerConnectionInfo } from '../../src/fleet/backend-process.js';
import { managerStartingPath } from '../../src/fleet/manager/files.js';
import { allocatePorts } from '../../src/fleet/ports.js';
import { writeConnectionFile, type ConnectionInfo } from '../../src/wire/connection-file.js';
import { REPO_ROOT, type JupyterEnv } from './e2e.js';

const run = promisify(execFile);
export const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

/** Runs the built CLI with the env's variables; `npm test` builds before running the suite. */
export async function cli(jenv: JupyterEnv, args: string[]): Promise<{ stdout: string; stderr: string }> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
  return run(process.execPath, [CLI, ...args], { env: jenv.env });
}

/**
 * Installs the llmspell-fleet kernelspec (and a javascript alias) into the env's Jupyter path
 * and writes a fleet.toml whose default runtime is `defaultRuntime`: what a user does once.
 */
export async function setupFleet(
  jenv: JupyterEnv,
  options: { defaultRuntime?: string; toml?: string; mode?: 'fleet' | 'local' } = {},
): Promise<void> {
  const prefix = join(jenv.dir);
  await cli(jenv, ['install', '--prefix', prefix]);
  await cli(jenv, ['install', '--prefix', prefix, '--runtime', 'javascript', '--provider', 'openai']);
  // linger 0: a shared backend stops as soon as its last router leaves, so tests can check that nothing is left.
  const toml = options.toml ?? `default_runtime = "${options.defaultRuntime ?? 'python'}"\ndefault_provider = "openai"\nlinger_seconds = 0\n`;
  await writeFile(join(jenv.homeDir, 'fleet.toml'), toml, { mode: 0o600 });
  if (options.mode === 'local') jenv.env.LLMSPELL_FLEET_MODE = 'local';
}

/** Kernel names installed by setupFleet. */
export const FLEET_PYTHON = 'llmspell-fleet';
export const FLEET_JAVASCRIPT = 'llmspell-fleet-javascript-openai';

/**
 * Stops the fleet manager of a test's home (if one was started) with its own `shutdown` op,
 * which stops every backend it owns; a test then checks that nothing is left. The home's
 * router host (a shared-mode kernelspec's stub starts one) goes first: its sessions release
 * their backends as they end, and it would outlive the test otherwise.
 */
export async function stopFleetManager(homeDir: string, timeoutMs = 10_000): Promise<void> {
  await (await import('./router-host.js')).stopRouterHost(homeDir);
  const socketPath = join(homeDir, 'manager.sock');
  // A manager still coming up (a router or router host started it early and holds
  // manager.starting until its socket is there): wait for the socket, or it would be left behind.
  const starting = managerStartingPath(homeDir);
  const deadline = Date.now() + timeoutMs;
  while (existsSync(starting) && !existsSync(socketPath) && Date.now() < deadline) await delay(20);
  if (!existsSync(socketPath)) return;
  const { createConnection } = await import('node:net');
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => { socket.destroy(); resolve(); }, timeoutMs);
    const socket = createConnection(socketPath);
    socket.on('connect', () => socket.write(JSON.stringify({ id: 1, op: 'shutdown' }) + '\n'));
    // The manager answers, then closes every connection as it exits; reading is what lets us see the close.
    socket.resume();
    socket.on('close', () => { clearTimeout(timer); resolve(); });
    socket.on('error', () => { clearTimeout(timer); resolve(); });
  });
}

/**
 * A connection file as Jupyter writes one for "the kernel" (our router): five free loopback
 * ports from the product's allocatePorts, outside the ephemeral range (src/fleet/port-range.ts
 * says why: the router binds them only later), a random key, mode 0600, in
 * the env's runtime dir.
 */
export async function writeClientConnectionFile(jenv: JupyterEnv, name = 'kernel'): Promise<{ file: string; info: ConnectionInfo }> {
  const info: ConnectionInfo = { ...routerConnectionInfo(await allocatePorts('127.0.0.1', 5)), kernel_name: 'llmspell-fleet' };
  const file = join(jenv.runtimeDir, `kernel-${name}-${randomUUID()}.json`);
  await writeConnectionFile(file, info);
  return { file, info };
}

/** llmspell's launch-contract stand-in (a small kernel that speaks the protocol), as a runtime's argv[1]. */
export const STANDIN = join(REPO_ROOT, 'test', 'fixtures', 'llmspell-standin.mjs');

export interface StandinFleetOptions {
  /** Lines before the runtime tables: top-level keys, or whole tables such as `[http]`. */
  top?: string[];
  /** Tables after `[runtimes.standin]` (more runtimes). */
  tables?: string[];
}

/** fleet.toml whose default runtime `standin` runs the stand-in, with provider openai. */
export function standinFleetToml(options: StandinFleetOptions = {}): string {
  const argv = [process.execPath, STANDIN, 'kernel', 'start', '--port', '0', '--id', '{kernel_id}', '--connection-file', '{connection_file}'];
  return [
    'default_runtime = "standin"',
    'default_provider = "openai"',
    ...(options.top ?? []),
    '[runtimes.standin]',
    `argv = ${JSON.stringify(argv)}`,
    'connection = "kernel-writes"',
    ...(options.tables ?? []),
    '[providers.openai]',
    'env = { LLMSPELL_PROVIDER = "openai" }',
  ].join('\n');
}

/**
 * A fleet home in the env's dir (not created: the manager makes it, with its modes), the
 * stand-in config beside it, and the env that names both.
 */
export async function standinFleet(jenv: JupyterEnv, options: StandinFleetOptions = {}): Promise<{ home: string; config: string; env: NodeJS.ProcessEnv }> {
  const home = join(jenv.dir, 'fleet');
  const config = join(jenv.dir, 'fleet.toml');
  await writeFile(config, standinFleetToml(options));
  return { home, config, env: { ...jenv.env, LLMSPELL_FLEET_HOME: home, LLMSPELL_FLEET_CONFIG: config } };
}
