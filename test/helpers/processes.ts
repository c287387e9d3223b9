/**
 * Finding the processes a test left behind.
 *
 * Every router and backend a test starts carries the test's unique temp dir in its argv or
 * its environment (LLMSPELL_FLEET_HOME, JUPYTER_RUNTIME_DIR, connection file paths), so a
 * scan of /proc for that path finds exactly the processes that test is responsible for.
 * Linux only (reads /proc).
 */
import { createConnection } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

export interface ProcessInfo {
  pid: number;
  /** argv joined with spaces */
  cmdline: string;
}

async function readProc(pid: number, file: 'cmdline' | 'environ'): Promise<Buffer | undefined> {
  try {
    return await readFile(`/proc/${pid}/${file}`);
  } catch {
    // gone, or not ours to read (EACCES): neither can be a process we started
    return undefined;
  }
}

/**
 * Processes (other than this one) whose argv or environment contains `marker`.
 * Zombies have an empty cmdline and unreadable environ, so they are not reported
 * (they are already dead; their parent only has to reap them).
 */
export async function processesReferencing(marker: string): Promise<ProcessInfo[]> {
  if (marker.length === 0) throw new Error('processesReferencing: empty marker');
  const needle = Buffer.from(marker);
  const found: ProcessInfo[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch (err) {
    throw new Error(`processesReferencing: cannot list /proc: ${String(err)}`);
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    const cmdline = await readProc(pid, 'cmdline');
    if (cmdline === undefined || cmdline.length === 0) continue;
    let hit = cmdline.includes(needle);
    if (!hit) {
      const environ = await readProc(pid, 'environ');
      hit = environ !== undefined && environ.includes(needle);
    }
    if (hit) {
      found.push({ pid, cmdline: cmdline.toString('utf8').replace(/\0+$/, '').split('\0').join(' ') });
    }
  }
  return found;
}

/**
 * The per-user daemons a fleet leaves running by design: the manager and the router host
 * (a shared-mode kernelspec's stub starts it; it lingers for the next notebook). A test that
 * checks "no router or backend is left" leaves these out; stopFleetManager stops both. A
 * session stuck in the host would still hold its backend, which such a test does see.
 */
export function isFleetDaemon(p: ProcessInfo): boolean {
  return / (manager --foreground|router-host)$/.test(p.cmdline);
}

/**
 * Waits until no process references `marker`. If some are still there after `timeoutMs`,
 * kills them with SIGKILL (so that one failing test does not leave load behind for the
 * next ones) and throws an error that lists them.
 */
export async function waitForNoProcesses(marker: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left = await processesReferencing(marker);
  while (left.length > 0 && Date.now() < deadline) {
    await delay(100);
    left = await processesReferencing(marker);
  }
  if (left.length === 0) return;
  for (const p of left) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  const list = left.map((p) => `  ${p.pid}: ${p.cmdline}`).join('\n');
  throw new Error(
    `${left.length} process(es) referencing ${marker} still running after ${timeoutMs} ms ` +
      `(now killed with SIGKILL):\n${list}`,
  );
}

/**
 * True while `pid` runs. A zombie counts as gone: when its parent died first, PID 1 on some
 * machines never reaps it, and `kill(pid, 0)` would still succeed.
 */
export async function isRunning(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** True when nothing accepts on the unix socket `path` (refused, or no such file). */
export function socketRefuses(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
