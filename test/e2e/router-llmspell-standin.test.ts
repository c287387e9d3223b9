/**
 * The router launching an llmspell backend by llmspell's own contract, checked from a real
 * jupyter_client: test/fixtures/llmspell-standin.mjs follows that contract (kernel-writes
 * connection file, `--port 0`, `--config`, `--id`, no `--daemon`, ignores shutdown_request) and
 * reports in kernel_info how it was launched. Run in both backend modes: through the fleet
 * manager (the default) and started by the router itself (LLMSPELL_FLEET_MODE=local).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';

import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, REPO_ROOT, runPython, withJupyterEnv, type CheckResult, type JupyterEnv } from '../helpers/e2e.js';
import { stopFleetManager, writeClientConnectionFile } from '../helpers/fleet-env.js';
import { isRunning, processesReferencing, waitForNoProcesses } from '../helpers/processes.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const STANDIN = join(REPO_ROOT, 'test', 'fixtures', 'llmspell-standin.mjs');

interface Standin {
  argv: string[];
  provider: string | null;
  parentPid: string | null;
  pid: number;
  cwd: string;
  id: string | null;
  config: string | null;
}

type StandinResult = CheckResult & {
  kernel_info: { implementation?: string; language_info?: { name?: string }; standin?: Standin } | null;
  stdout: string | null;
  execute_reply: { status: string } | null;
  shutdown_reply: { status: string } | null;
};

/** Resolves true once `check` holds, false if `ms` passes first (polls a state that has no event). */
async function eventually(check: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await delay(50);
  }
}

/** The value after `flag` in argv, or undefined. */
function after(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
}

async function writeConfig(jenv: JupyterEnv): Promise<{ config: string; providerConfig: string }> {
  const providerConfig = join(jenv.dir, 'anthropic.toml');
  await writeFile(providerConfig, 'default_provider = "anthropic"\n\n[providers.anthropic]\nprovider_type = "anthropic"\napi_key_env = "ANTHROPIC_API_KEY"\n');
  const config = join(jenv.dir, 'fleet.toml');
  const argv = [process.execPath, STANDIN, '--config', '{config}', 'kernel', 'start', '--port', '0', '--id', '{kernel_id}', '--connection-file', '{connection_file}'];
  await writeFile(
    config,
    [
      // The defaults name other choices: only --runtime/--provider can select lua/anthropic.
      'default_runtime = "javascript"',
      'default_provider = "openai"',
      'linger_seconds = 0',
      '',
      '[runtimes.lua]',
      `argv = ${JSON.stringify(argv)}`,
      'connection = "kernel-writes"',
      'language = "lua"',
      '',
      '[providers.anthropic]',
      `config = ${JSON.stringify(providerConfig)}`,
      'env = { LLMSPELL_PROVIDER = "anthropic" }',
      '',
    ].join('\n'),
  );
  return { config, providerConfig };
}


describe('router with an llmspell backend (llmspell stand-in) through jupyter_client', () => {
  it.each(['fleet', 'local'] as const)('launches it by the llmspell contract, relays, and stops it on shutdown though it ignores shutdown_request (%s)', async (mode) => {
    await withJupyterEnv(async (jenv) => {
      if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npx tsc -p tsconfig.json" first`);
      const { config, providerConfig } = await writeConfig(jenv);
      const { file: connectionFile } = await writeClientConnectionFile(jenv);
      const env: NodeJS.ProcessEnv = { ...jenv.env, LLMSPELL_FLEET_CONFIG: config, JPY_PARENT_PID: String(process.pid) };
      for (const name of ['LLMSPELL_RUNTIME', 'LLMSPELL_PROVIDER', 'LLMSPELL_FLEET_MODE']) delete env[name];
      if (mode === 'local') env.LLMSPELL_FLEET_MODE = 'local';

      const router = spawn(process.execPath, [CLI, 'router', '--connection-file', connectionFile, '--runtime', 'lua', '--provider', 'anthropic'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stderr: Buffer[] = [];
      router.stderr.on('data', (b: Buffer) => stderr.push(b));
      router.stdout.resume();
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => router.once('exit', (code, signal) => resolve({ code, signal })));
      try {
        const run = await runPython<StandinResult>('standin_check.py', [connectionFile], { env: jenv.env, timeoutMs: 90_000 });
        const why = `${describeRun('standin_check', run)}\nrouter stderr:\n${Buffer.concat(stderr).toString('utf8')}`;
        const result = expectChecksPassed(run, { exactly: ['ready', 'kernel_info', 'execute', 'shutdown_reply'] }, why);

        const info = result.kernel_info!;
        expect(info.implementation).toBe('llmspell-standin');
        expect(info.language_info?.name).toBe('lua');
        const standin = info.standin!;
        const argv = standin.argv;
        // llmspell's contract (notes/llmspell-kernel.md): OS-chosen ports, no daemon, absolute config.
        expect(after(argv, '--port'), JSON.stringify(argv)).toBe('0');
        expect(argv).not.toContain('--daemon');
        expect(after(argv, '--config'), JSON.stringify(argv)).toBe(providerConfig);
        expect(standin.config).toBe(providerConfig);
        expect(after(argv, '--id'), JSON.stringify(argv)).toMatch(/^lua-anthropic-[0-9a-f]{8}$/);
        expect(standin.id).toBe(after(argv, '--id'));
        const backendFile = after(argv, '--connection-file');
        expect(backendFile).toBe(join(jenv.homeDir, 'backends', `${standin.id}.json`));
        expect(argv.slice(argv.indexOf('kernel'), argv.indexOf('kernel') + 2)).toEqual(['kernel', 'start']);
        // The provider's env reached the backend; the defaults (javascript/openai) were not used.
        expect(standin.provider).toBe('anthropic');
        // A local backend watches its router. A fleet backend must outlive routers and the manager
        // (a new manager adopts it), so the manager launches it with JPY_PARENT_PID empty
        // (managerPlan in src/fleet/manager/launch.ts).
        if (mode === 'local') {
          expect(standin.parentPid).toBe(String(router.pid));
        } else {
          const manager = (await processesReferencing(jenv.dir)).find((p) => p.cmdline.includes(' manager --foreground'));
          expect(standin.parentPid, `JPY_PARENT_PID of a fleet backend (the manager is ${manager?.pid ?? 'not found'}: ${manager?.cmdline ?? ''})`).toBe('');
        }

        expect(result.stdout).toBe('print("hi")');
        expect(result.execute_reply?.status).toBe('ok');
        expect(result.shutdown_reply?.status).toBe('ok');

        const exit = await Promise.race([exited, delay(60_000).then(() => undefined)]);
        expect(exit, `router exit after shutdown_request\n${why}`).toEqual({ code: 0, signal: null });
        if (mode === 'local') {
          // The router stops its own backend before it exits.
          expect(await isRunning(standin.pid), 'stand-in still running after the router exited').toBe(false);
          expect(existsSync(backendFile!), `${backendFile} left behind`).toBe(false);
        } else {
          // linger_seconds = 0: the manager stops it once its last router has left.
          expect(await eventually(async () => !(await isRunning(standin.pid)), 60_000), 'stand-in still running 60 s after its only router left').toBe(true);
          expect(await eventually(() => !existsSync(backendFile!), 60_000), `${backendFile} left behind`).toBe(true);
        }
      } finally {
        if (router.exitCode === null && router.signalCode === null) {
          router.kill('SIGTERM');
          await Promise.race([exited, delay(15_000)]);
        }
      }
      await stopFleetManager(jenv.homeDir);
      await waitForNoProcesses(jenv.dir, 60_000);
    });
  }, 150_000);
});
