import { unlink } from 'node:fs/promises';
import { setTimeout as wait } from 'node:timers/promises';
import { waitForConnectionFile } from '../../fleet/wait-connection-file.js';
import { readLogTail, spawnBackend, type ChildExit, type SpawnedChild } from '../../fleet/spawn.js';
import { FleetError } from '../../shared/errors.js';
import { describeExit } from '../../shared/exit.js';
import { findExecutable } from '../../shared/which.js';
import type { ConnectionInfo } from '../../wire/connection-file.js';

export interface StartLlmspellOptions {
  /** `llmspell ... kernel start --port 0 --connection-file <connectionFile>`, already expanded. */
  argv: readonly string[];
  env: Readonly<Record<string, string>>;
  cwd?: string;
  /** Where llmspell writes its connection file; removed first, so a stale one is never read. */
  connectionFile: string;
  /** llmspell's stdout and stderr (its own copy of every print, its WARN/ERROR lines). */
  logFile: string;
  startupTimeoutMs: number;
  /** Stops the wait for the connection file (the adapter is shutting down); llmspell is stopped. */
  signal?: AbortSignal;
}

export interface LlmspellChild {
  child: SpawnedChild;
  info: ConnectionInfo;
}

/**
 * llmspell runs in its own process group, so a SIGINT sent to the adapter's group (jupyter_client's
 * signal interrupt, a terminal's Ctrl-C) can never reach it: llmspell has no SIGINT handler and
 * would die. PR_SET_PDEATHSIG (through util-linux setpriv, where present) ends it if the adapter
 * is killed outright, so it never outlives the kernel it belongs to.
 */
export async function startLlmspell(options: StartLlmspellOptions): Promise<LlmspellChild> {
  const [file, ...args] = options.argv;
  if (file === undefined) throw new TypeError('startLlmspell: argv is empty');
  const exe = await findExecutable(file, options.env.PATH);
  if (exe === undefined) {
    throw new FleetError(
      'SPAWN_FAILED',
      `llmspell executable "${file}" was not found ${file.includes('/') ? '' : `on PATH (${options.env.PATH ?? 'unset'})`}; build it from rs-llmspell (cargo build --release -p llmspell-cli) and put it on PATH, or set runtimes.lua.argv in fleet.toml`,
      { file, configKey: 'runtimes.lua.argv' },
    );
  }
  await unlink(options.connectionFile).catch(() => undefined);
  const setpriv = await findExecutable('setpriv', options.env.PATH ?? process.env.PATH);
  const argv = setpriv ? [setpriv, '--pdeathsig', 'KILL', '--', exe, ...args] : [exe, ...args];
  const child = await spawnBackend({
    argv,
    env: options.env,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    logFile: options.logFile,
    configKey: 'runtimes.lua.argv',
    banner: `--- llmspell started by the llmspell-fleet adapter ${new Date().toISOString()}: ${[exe, ...args].join(' ')}`,
  });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error('timeout')), options.startupTimeoutMs);
  void child.exit.then(() => abort.abort(new Error('exited')));
  options.signal?.addEventListener('abort', () => abort.abort(new Error('stopping')), { once: true });
  try {
    const info = await waitForConnectionFile(options.connectionFile, { signal: abort.signal });
    return { child, info };
  } catch {
    const exited = !child.alive;
    if (!exited) await stopLlmspell(child, 0);
    const exit = await child.exit;
    const tail = await readLogTail(options.logFile, { fromOffset: child.logOffset, lines: 15 });
    const what = exited
      ? `llmspell ${describeExit(exit)} before it wrote its connection file`
      : `llmspell wrote no connection file within ${Math.round(options.startupTimeoutMs / 1000)} s`;
    throw new FleetError('BACKEND_EXITED', `${what}${tail ? `; its last output:\n${tail}` : ` (log: ${options.logFile})`}`, {
      exitCode: exit.exitCode,
      signal: exit.signal,
      logFile: options.logFile,
    });
  } finally {
    clearTimeout(timer);
  }
}

/** SIGTERM (llmspell has no handler: it ends at once), then SIGKILL after `graceMs`. */
export async function stopLlmspell(child: SpawnedChild, graceMs = 2000): Promise<ChildExit> {
  if (graceMs > 0 && child.signalGroup('SIGTERM')) {
    const ended = await Promise.race([child.exit.then(() => true), wait(graceMs, false, { ref: false })]);
    if (ended) return child.exit;
  }
  child.signalGroup('SIGKILL');
  return child.exit;
}
