/**
 * A router that finds no manager starts one before it loads its own modules (issue #12 item 3):
 * the manager's node start and module load then run while the router loads, instead of after
 * it. It follows the autostart protocol of client.ts: it holds manager.starting while its
 * manager comes up, so that routers starting together still spawn one manager, and the
 * router's ManagerClient.connect later only waits for the socket (or takes over the start if
 * this one failed). Nothing here throws: the connect that follows reports any problem.
 */
import { existsSync } from 'node:fs';
import { isFleetError } from '../../shared/errors.js';
import { startupMark } from '../../shared/startup-trace.js';
import { ensurePrivateDir } from '../paths.js';
import { managerSocketPath, managerStartingPath } from './files.js';

type Env = Record<string, string | undefined>;

export type EarlyStart =
  /** A socket file is there: a manager runs (or a stale socket, which the connect deals with). */
  | 'socket-present'
  /** Another process is starting a manager right now. */
  | 'another-start'
  | 'started'
  /** Could not start one; the connect that follows tries again and says why. */
  | 'failed';

export interface EarlyStartOptions {
  home: string;
  env: Env;
  /** How long manager.starting is held at most while the manager comes up. Default 10000. */
  holdMs?: number;
}

/** How often the socket file is looked for while manager.starting is held. */
const SOCKET_POLL_MS = 10;

/** Resolves once the manager process is spawned (or it is known none is needed); the lock is released later, by itself. */
export async function startManagerEarly(options: EarlyStartOptions): Promise<EarlyStart> {
  const socket = managerSocketPath(options.home);
  // The cheap check: a stat. Connecting would load the client and its schemas first.
  if (existsSync(socket)) return 'socket-present';
  try {
    const [{ acquireLock }, { startManagerProcess }] = await Promise.all([import('./lock.js'), import('./autostart.js')]);
    const home = await ensurePrivateDir(options.home);
    let lock: Awaited<ReturnType<typeof acquireLock>>;
    try {
      lock = await acquireLock(managerStartingPath(home), { timeoutMs: 0 });
    } catch (error) {
      if (isFleetError(error) && error.code === 'MANAGER_UNAVAILABLE') return 'another-start';
      throw error;
    }
    // Whoever held the lock before us may have just finished starting one.
    if (existsSync(socket)) {
      await lock.release();
      return 'socket-present';
    }
    let started: Awaited<ReturnType<typeof startManagerProcess>>;
    try {
      started = await startManagerProcess({ home, env: options.env });
    } catch (error) {
      await lock.release();
      throw error;
    }
    startupMark('manager-spawned');
    void untilListening(socket, started.exited, options.holdMs ?? 10_000).finally(() => lock.release());
    return 'started';
  } catch {
    return 'failed';
  }
}

/** Until the socket file is there, the manager has exited (lost a race, or failed) or `holdMs` passed. */
async function untilListening(socket: string, exited: Promise<unknown>, holdMs: number): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + holdMs;
  while (!gone && !existsSync(socket) && Date.now() < deadline) {
    // Unreferenced: a router that fails at once must not stay alive for this wait.
    await new Promise((resolve) => setTimeout(resolve, SOCKET_POLL_MS).unref());
  }
}
