/**
 * The one place that starts processes and the one stop ladder: node:child_process is imported
 * nowhere else in src/. Never a shell: argv reaches the OS as separate words, so nothing a user
 * or a config file supplies is interpolated.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as wait } from 'node:timers/promises';
import { describeExit } from './exit.js';
import type { Logger } from './log.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface RunOptions {
  /** The complete environment; nothing is inherited implicitly. */
  env: Env;
  /** The command gets SIGTERM after this long, and the call rejects. */
  timeoutMs: number;
  cwd?: string;
  /** More output than this on stdout or stderr kills the command and rejects. Default 4 MiB. */
  maxBytes?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a short command (a probe: `jupyter --paths`, `python3 -c ...`) to completion, stdin
 * closed. Rejects when it cannot start, exits non-zero, is killed or times out.
 */
export function runCommand(file: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const { env, timeoutMs, cwd, maxBytes = 4 * 1024 * 1024 } = options;
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(file, args, { env, cwd, shell: false, stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGTERM' });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let bytes = 0;
    let tooMuch = false;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        tooMuch = true;
        child.kill('SIGTERM');
      } else {
        into.push(chunk);
      }
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    child.once('error', reject);
    child.once('close', (exitCode, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = Buffer.concat(err).toString('utf8');
      if (exitCode === 0 && !tooMuch) return resolve({ stdout, stderr });
      const why = tooMuch
        ? `wrote more than ${maxBytes} bytes and was stopped`
        : signal === 'SIGTERM' && child.killed
          ? `did not finish within ${timeoutMs} ms and was stopped`
          : describeExit({ exitCode, signal });
      const said = stderr.trim().split('\n').slice(-3).join('\n');
      reject(new Error(`${[file, ...args].join(' ')} ${why}${said ? `: ${said}` : ''}`));
    });
  });
}

export interface DetachedOptions {
  /** The complete environment; nothing is inherited implicitly. */
  env: Readonly<Record<string, string>>;
  cwd?: string;
  /** An open file descriptor that receives both stdout and stderr; stdin is closed. */
  outputFd: number;
}

/**
 * Starts a long-running process in a new process group (pgid == pid): signals Jupyter sends to
 * the starter's group never reach it, and it can be signalled together with anything it starts.
 * The caller listens for 'spawn'/'error' and 'exit' on the returned child, before any await.
 */
export function spawnDetached(file: string, args: readonly string[], options: DetachedOptions): ChildProcess {
  return spawn(file, args, {
    detached: true,
    shell: false,
    cwd: options.cwd,
    env: { ...options.env },
    stdio: ['ignore', options.outputFd, options.outputFd],
  });
}

/** SIGTERM → SIGKILL delays when stopping a process. */
export interface StopLadder {
  /** Time between SIGTERM and SIGKILL. */
  graceMs: number;
  /** Time to wait after SIGKILL before giving up (logged; the process is then beyond our reach). */
  killMs: number;
}

/** Two seconds to shut down cleanly (a kernel saving its history), then three more after SIGKILL. */
export const DEFAULT_STOP_LADDER: Readonly<StopLadder> = { graceMs: 2000, killMs: 3000 };

export interface LadderTarget {
  /** False once the process is known to be gone; then nothing is sent. Default: always true. */
  alive?(): boolean;
  signal(signal: 'SIGTERM' | 'SIGKILL'): void;
  /** True once the process is gone, false if it is still there after `ms`. */
  goneWithin(ms: number): Promise<boolean>;
}

/**
 * SIGTERM, then SIGKILL after graceMs, then give up after killMs. Returns whether the process
 * is gone. `what` names it in the log ("backend", "adopted backend"); `fields` identify it.
 */
export async function climbStopLadder(
  target: LadderTarget,
  ladder: StopLadder,
  log: { logger: Logger; what: string; fields: Record<string, unknown> },
): Promise<boolean> {
  if (target.alive && !target.alive()) return true;
  target.signal('SIGTERM');
  if (await target.goneWithin(ladder.graceMs)) return true;
  log.logger.warn({ ...log.fields, graceMs: ladder.graceMs }, `${log.what} ignored SIGTERM; sending SIGKILL`);
  target.signal('SIGKILL');
  if (await target.goneWithin(ladder.killMs)) return true;
  log.logger.error({ ...log.fields, killMs: ladder.killMs }, `${log.what} did not exit after SIGKILL; giving up on it`);
  return false;
}

/** Polls `gone` every `everyMs` until it says true or `ms` has passed (for a pid without a child handle). */
export async function pollUntil(gone: () => boolean, ms: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (gone()) return true;
    await wait(everyMs);
  }
  return gone();
}
