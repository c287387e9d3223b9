/**
 * The idle manager's exit (see idle.ts for when). The hard part is a client that connects while
 * the manager decides: it must be served or find no manager at all (and start one through
 * autostart), never a connection that is dropped unanswered. So the exit runs under
 * manager.lock (no new manager binds meanwhile, and closing our socket, which unlinks its path,
 * can only remove our own), sets the socket file aside (new clients get ENOENT and autostart),
 * lets the event loop accept whatever had connected before, and only then decides for good:
 * a client that got in puts the socket file back and is served.
 */
import { rename, rm } from 'node:fs/promises';
import type { Logger } from '../../shared/log.js';
import { holders, idleVerdict, type ManagerHolds } from './idle.js';
import { acquireLock } from './lock.js';

export interface IdleExitOptions {
  socketPath: string;
  lockPath: string;
  holds(): ManagerHolds;
  /** manager_idle_seconds as the config last said, in ms (0: never). */
  idleMs(): number;
  /** Stop serving; called with the lock held and the socket file set aside. */
  close(): Promise<void>;
  logger: Logger;
  /** How often the idle clock is read at most. Default 1000 (or manager_idle_seconds, when shorter). */
  checkEveryMs?: number;
}

/** Long enough for the event loop to poll the listening socket at least once. */
const DRAIN_MS = 50;

export class IdleExit {
  #idleSince: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #aside = false;
  #attempt: Promise<boolean> | undefined;

  constructor(private readonly options: IdleExitOptions) {}

  /** True while the socket file is set aside: its absence then does not mean the home is gone. */
  get socketSetAside(): boolean {
    return this.#aside;
  }

  start(): void {
    this.#schedule(this.options.checkEveryMs ?? 1000);
  }

  /** Something happened (a connection came or went, a request was answered): the clock restarts. */
  touch(): void {
    this.#idleSince = undefined;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** Settles once no exit attempt is under way (the lock is released, the socket file back or gone). */
  settled(): Promise<unknown> {
    return this.#attempt ?? Promise.resolve();
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#check(), ms);
    this.#timer.unref();
  }

  async #check(): Promise<void> {
    const idleMs = this.options.idleMs();
    // A short idle time is honoured to within itself, not to within the default second.
    const every = Math.min(this.options.checkEveryMs ?? 1000, idleMs > 0 ? Math.max(idleMs, 20) : Infinity);
    const verdict = idleVerdict({ holds: this.options.holds(), idleSince: this.#idleSince, idleMs, now: Date.now() });
    if (verdict.action === 'exit') {
      // A failed attempt (a file system error) must not take the manager down: it just stays.
      this.#attempt = this.#exit(idleMs).catch((error: unknown) => {
        this.options.logger.error({ err: String(error) }, 'idle exit failed; the manager keeps running');
        return false;
      });
      const exited = await this.#attempt;
      this.#attempt = undefined;
      if (exited) return;
    }
    this.#idleSince = verdict.action === 'wait' ? verdict.idleSince : undefined;
    this.#schedule(verdict.action === 'wait' ? Math.min(verdict.inMs, every) : every);
  }

  /** True once the manager has closed; false when something held it after all (or a start is under way). */
  async #exit(idleMs: number): Promise<boolean> {
    const { socketPath, logger: log } = this.options;
    // A manager start holds the lock while it pings us: it gets its answer, we try again later.
    const lock = await acquireLock(this.options.lockPath, { timeoutMs: 0 }).catch(() => undefined);
    if (lock === undefined) return false;
    const aside = `${socketPath}.${process.pid}.idle`;
    try {
      if (this.#held()) return false;
      this.#aside = true;
      try {
        await rename(socketPath, aside);
      } catch {
        return false; // no socket file: the home is gone, which the manager's orphan watch handles
      }
      // Whoever connected before the rename is in the listen backlog: the next poll accepts it.
      await new Promise((resolve) => setTimeout(resolve, DRAIN_MS));
      await new Promise((resolve) => setImmediate(resolve));
      if (this.#held()) {
        const back = await rename(aside, socketPath).then(() => true, () => false);
        if (back) {
          log.debug('a client connected while the manager was about to exit; serving it');
          return false;
        }
        log.warn({ socket: socketPath }, 'could not put the manager socket back; exiting');
      }
      log.info({ manager_idle_seconds: idleMs / 1000 }, 'no backend, client or request for manager_idle_seconds: the fleet manager exits (the next router or fleet command starts it again)');
      await this.options.close();
      this.stop();
      return true;
    } finally {
      await rm(aside, { force: true });
      this.#aside = false;
      await lock.release();
    }
  }

  #held(): boolean {
    return holders(this.options.holds()).length > 0;
  }
}
