/**
 * The long-running processes a Kubernetes test cluster is made of (etcd, kube-apiserver, kwok,
 * containerd, kubelet): started with their output in a log file under the cluster's directory,
 * waited for by a readiness check that fails fast (with the log's tail) when the process dies,
 * and stopped with SIGTERM then SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { open, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';

/** The Kubernetes version scripts/kube-binaries.sh builds by default. */
export const KUBE_VERSION = process.env.LLMSPELL_KUBE_VERSION ?? '1.34.4';

/** Where scripts/kube-binaries.sh caches kube-apiserver, kubelet, kwok and kwok's stage files. */
export function kubeCacheDir(): string {
  return process.env.LLMSPELL_KUBE_CACHE ?? join(homedir(), '.cache', 'llmspell-fleet', 'kube', `v${KUBE_VERSION}`);
}

export interface Daemon {
  name: string;
  child: ChildProcess;
  logPath: string;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (for daemons that cannot be told to pick one themselves). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('freePort: no TCP address');
  return address.port;
}

/** Starts `command` with stdout and stderr appended to `<dir>/<name>.log`. */
export async function startDaemon(
  name: string,
  command: string,
  args: string[],
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Daemon> {
  const logPath = join(dir, `${name}.log`);
  const log = await open(logPath, 'a', 0o600);
  const child = spawn(command, args, { stdio: ['ignore', log.fd, log.fd], env, cwd: dir });
  await log.close(); // the child holds its own copy of the descriptor
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 10_000): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const killed = delay(graceMs, 'timeout' as const, { ref: false });
      if ((await Promise.race([exited, killed])) === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
    })();
    return stopping;
  };
  return { name, child, logPath, exited, stop };
}

/** The last `lines` lines of a daemon's log, for error messages. */
export async function logTail(daemon: Daemon, lines = 25): Promise<string> {
  const text = await readFile(daemon.logPath, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Polls `ready` (every 100 ms) until it returns true. Fails with the daemon's log tail when the
 * daemon exits first or `timeoutMs` passes; `what` names the wait in that error.
 */
export async function waitForDaemon(
  daemon: Daemon,
  what: string,
  ready: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void daemon.exited.then(() => (dead = true));
  for (;;) {
    if (await ready().catch(() => false)) return;
    if (dead || Date.now() > deadline) {
      const why = dead
        ? `${daemon.name} exited (code ${daemon.child.exitCode}, signal ${daemon.child.signalCode})`
        : `timed out after ${timeoutMs} ms`;
      throw new Error(`${what}: ${why}; last lines of ${daemon.logPath}:\n${await logTail(daemon)}`);
    }
    await delay(100);
  }
}

/** Runs a short command to completion; rejects with its output when it fails. */
export async function run(command: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  const child = spawn(command, args, { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const failed = new Promise<[number | null]>((resolve) => child.once('error', (err) => {
    out += String(err);
    resolve([null]);
  }));
  const [code] = await Promise.race([once(child, 'close') as Promise<[number | null]>, failed]);
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${code}):\n${out.trim()}`);
  return out;
}
