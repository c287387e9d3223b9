import { once } from 'node:events';
import { constants as fsConstants } from 'node:fs';
import { access, chmod, mkdir, open, stat } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import { FleetError, describeError } from '../shared/errors.js';
import { spawnDetached } from '../shared/process.js';
import { lastLines } from './log-tail.js';

/**
 * Starting a backend kernel (through shared/process.ts, which starts every process): the log
 * file, the errors that name the setting to fix, and the guard that stops us signalling a
 * reaped pid.
 */

export interface SpawnBackendOptions {
  argv: readonly string[];
  /** The complete environment; nothing is inherited implicitly. */
  env: Readonly<Record<string, string>>;
  cwd?: string;
  /** stdout and stderr are appended here (created 0600, its directory 0700). */
  logFile: string;
  /** Config key the user edits when the executable is wrong, named in SPAWN_FAILED messages. */
  configKey: string;
  /** First line written to the log for this run, so runs appended to one file stay apart. */
  banner?: string;
}

export interface ChildExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnedChild {
  readonly pid: number;
  /** Log file offset where this run's output starts (after the banner). */
  readonly logOffset: number;
  /** Settles once, when the OS has reaped the child. Never rejects. */
  readonly exit: Promise<ChildExit>;
  /** True until the child is reaped; after that its pid (and pgid) may belong to a stranger. */
  readonly alive: boolean;
  /**
   * Signals the child's whole process group (pgid == pid: we spawn detached). Returns false, and
   * sends nothing, once the child has been reaped.
   */
  signalGroup(signal: NodeJS.Signals): boolean;
}

export async function spawnBackend(options: SpawnBackendOptions): Promise<SpawnedChild> {
  const [file, ...args] = options.argv;
  if (file === undefined || file.length === 0) {
    throw new TypeError(`spawnBackend: argv must name an executable, got ${JSON.stringify(options.argv)}`);
  }
  if (options.cwd !== undefined) await checkCwd(options.cwd, options.configKey);

  await mkdir(dirname(options.logFile), { recursive: true, mode: 0o700 });
  const log = await open(options.logFile, 'a', 0o600);
  let logOffset: number;
  let subprocess: ReturnType<typeof spawnDetached>;
  let spawned: Promise<NodeJS.ErrnoException | undefined>;
  let alive = true;
  let exit: Promise<ChildExit>;
  try {
    // `open` applies the mode only when it creates the file; a log left with a wider mode is narrowed.
    await chmod(options.logFile, 0o600);
    if (options.banner !== undefined) await log.appendFile(`${options.banner}\n`);
    logOffset = (await log.stat()).size;
    subprocess = spawnDetached(file, args, { cwd: options.cwd, env: options.env, outputFd: log.fd });
    // 'error' is read through `spawned` below; a later one (none is expected: signals go through
    // process.kill) must not go unhandled and take the process down.
    subprocess.on('error', () => undefined);
    // Listeners go on before any await: 'spawn' or 'error' fires on the next tick and would be missed.
    spawned = once(subprocess, 'spawn').then(
      () => undefined,
      (error: NodeJS.ErrnoException) => error,
    );
    const child = subprocess;
    exit = new Promise<ChildExit>((resolve) => {
      // 'exit' runs synchronously when libuv reaps the child, so `alive` flips before any other
      // JavaScript can see a reaped pid.
      child.once('exit', (exitCode, signal) => {
        alive = false;
        resolve({ exitCode, signal });
      });
    });
  } finally {
    // The child holds its own duplicate of the descriptor (spawn is synchronous).
    await log.close();
  }

  const spawnFailure = await spawned;
  if (spawnFailure !== undefined) {
    throw spawnError(spawnFailure, { file, cwd: options.cwd, configKey: options.configKey });
  }
  const pid = subprocess.pid;
  if (pid === undefined) {
    throw new FleetError('SPAWN_FAILED', `starting "${file}" produced no process id; check ${options.configKey}`, { file, configKey: options.configKey });
  }

  return {
    pid,
    logOffset,
    exit,
    get alive() {
      return alive;
    },
    signalGroup(signal) {
      if (!alive) return false;
      try {
        process.kill(-pid, signal);
        return true;
      } catch (error) {
        // ESRCH: the whole group is already gone but the exit event has not run yet.
        if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
        throw error;
      }
    },
  };
}

export interface SpawnErrorInput {
  file: string;
  cwd?: string;
  configKey: string;
}

/** Turns a spawn-time errno into a message that says which setting to fix. */
export function spawnError(error: NodeJS.ErrnoException, input: SpawnErrorInput): FleetError {
  const { file, configKey } = input;
  const where = file.includes('/') ? `at ${file}` : `on PATH (${process.env.PATH ?? 'PATH is unset'})`;
  const errno = error.code;
  const message =
    errno === 'ENOENT'
      ? `executable "${file}" was not found ${where}; install it or fix ${configKey}`
      : errno === 'EACCES'
        ? `"${file}" is not executable by this user; fix its permissions or ${configKey}`
        : `could not start "${file}": ${describeError(error)}; check ${configKey}`;
  return new FleetError('SPAWN_FAILED', message, { file, errno, configKey, cwd: input.cwd }, { cause: error });
}

async function checkCwd(cwd: string, configKey: string): Promise<void> {
  // Node reports a missing cwd as ENOENT for the executable, which would blame the wrong thing.
  try {
    if (!isAbsolute(cwd)) throw new Error('it is not an absolute path');
    if (!(await stat(cwd)).isDirectory()) throw new Error('it is not a directory');
    await access(cwd, fsConstants.X_OK);
  } catch (cause) {
    throw new FleetError('SPAWN_FAILED', `working directory ${cwd} cannot be used (${describeError(cause)}); fix the backend's cwd (${configKey})`, { cwd, configKey }, { cause });
  }
}

/**
 * The last `lines` lines a backend wrote to its log in this run (from `fromOffset`), at most
 * `maxBytes` read. Empty when the log cannot be read: a diagnostic must not mask the real error.
 */
export async function readLogTail(path: string, options: { fromOffset?: number; lines?: number; maxBytes?: number } = {}): Promise<string> {
  const { fromOffset = 0, lines = 20, maxBytes = 16 * 1024 } = options;
  try {
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      const start = Math.max(fromOffset, size - maxBytes);
      if (size <= start) return '';
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      return lastLines(buffer.toString('utf8'), lines, { firstLineIsPartial: start > fromOffset, asMessage: true });
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}
