import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { describeError } from '../shared/errors.js';
import { parseConnectionInfo, type ConnectionInfo } from '../wire/connection-file.js';

export interface WaitForConnectionFileOptions {
  /** The only way this wait ends without a file: the caller aborts on timeout or process exit. */
  signal: AbortSignal;
  /** Fallback poll period; directory watching can miss events (network filesystems, rename races). */
  intervalMs?: number;
}

export type ConnectionFileProbe =
  | { ok: true; info: ConnectionInfo }
  | { ok: false; problem: 'missing' | 'unreadable' | 'invalid'; detail: string };

/**
 * Reads the file once and says what is there. A kernel that writes its connection file (llmspell)
 * does so non-atomically, so "invalid" is a normal transient state while we wait.
 */
export async function probeConnectionFile(path: string): Promise<ConnectionFileProbe> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, problem: 'missing', detail: `${path} does not exist yet` };
    return { ok: false, problem: 'unreadable', detail: describeError(error) };
  }
  try {
    return { ok: true, info: parseConnectionInfo(text, path) };
  } catch (error) {
    return { ok: false, problem: 'invalid', detail: describeError(error) };
  }
}

/**
 * Resolves with the connection info once the file parses with non-zero ports. Rejects with
 * `signal.reason` when the signal aborts; never gives up on its own.
 */
export function waitForConnectionFile(path: string, options: WaitForConnectionFileOptions): Promise<ConnectionInfo> {
  const { signal, intervalMs = 50 } = options;
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new TypeError(`waitForConnectionFile: intervalMs must be a positive number, got ${String(intervalMs)} (${typeof intervalMs})`);
  }
  return new Promise<ConnectionInfo>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const name = basename(path);
    let settled = false;
    let reading = false;
    let again = false;
    let watcher: FSWatcher | undefined;

    const finish = (): void => {
      settled = true;
      clearInterval(timer);
      watcher?.close();
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      if (settled) return;
      finish();
      reject(signal.reason);
    };
    // One read at a time; an event during a read schedules exactly one more, so no write is missed.
    const attempt = (): void => {
      if (settled) return;
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      void probeConnectionFile(path).then((probe) => {
        reading = false;
        if (settled) return;
        if (probe.ok) {
          finish();
          resolve(probe.info);
        } else if (again) {
          again = false;
          attempt();
        }
      });
    };

    signal.addEventListener('abort', onAbort, { once: true });
    const timer = setInterval(attempt, intervalMs);
    try {
      watcher = watch(dirname(path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === name) attempt();
      });
      // A vanished directory must not crash the process; the interval keeps polling.
      watcher.on('error', () => watcher?.close());
    } catch {
      watcher = undefined;
    }
    attempt();
  });
}
