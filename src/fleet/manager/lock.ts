/**
 * `<home>/manager.lock`: held (created with O_EXCL) only while a starting manager checks
 * whether another one answers and binds the socket, so that two managers started at the same
 * moment never both unlink-and-bind. It holds "pid procStart"; a lock whose writer is gone is
 * stale and is taken over.
 */
import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { FleetError } from '../../shared/errors.js';
import { isSameProcess, procStartTime } from './proc.js';

export interface LockOwner {
  pid: number;
  procStart?: number;
}

/** Pure: the owner written in a lock file, or undefined if it is not (yet) readable. */
export function parseLock(text: string): LockOwner | undefined {
  const [pid, start] = text.trim().split(/\s+/);
  if (pid === undefined || !/^\d+$/.test(pid)) return undefined;
  if (start !== undefined && /^\d+$/.test(start)) return { pid: Number(pid), procStart: Number(start) };
  return { pid: Number(pid) };
}

/** A writer dies between create and write only if it crashes; give a live one this long. */
const UNWRITTEN_LOCK_GRACE_MS = 2000;

export interface LockOptions {
  /** How long to wait for another holder to finish. Default 10000. */
  timeoutMs?: number;
}

export interface HeldLock {
  release(): Promise<void>;
}

export async function acquireLock(path: string, options: LockOptions = {}): Promise<HeldLock> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const mine = `${process.pid} ${procStartTime(process.pid) ?? ''}`.trim();
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      try {
        await handle.writeFile(`${mine}\n`);
      } finally {
        await handle.close();
      }
      return { release: () => releaseIfMine(path, mine) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await currentOwner(path);
    if (owner === 'stale') {
      await takeOverStale(path);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new FleetError(
        'MANAGER_UNAVAILABLE',
        `another fleet manager start (pid ${owner?.pid ?? 'unknown'}) holds ${path} and has not finished; ` +
          `if no llmspell-fleet manager is starting, remove ${path} and retry`,
        { lockFile: path, pid: owner?.pid },
      );
    }
    await sleep(50);
  }
}

async function currentOwner(path: string): Promise<LockOwner | 'stale' | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined; // released meanwhile: just retry
  }
  const owner = parseLock(text);
  if (owner === undefined) {
    const age = await stat(path).then((s) => Date.now() - s.mtimeMs, () => 0);
    return age > UNWRITTEN_LOCK_GRACE_MS ? 'stale' : undefined;
  }
  return isSameProcess(owner.pid, owner.procStart) ? owner : 'stale';
}

/**
 * Rename is atomic, so of several processes that found the same stale lock only one moves it
 * away. If what it moved turns out to be a fresh lock (replaced in between), it is linked back;
 * link never overwrites, so a lock taken meanwhile by a third process survives.
 */
async function takeOverStale(path: string): Promise<void> {
  const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const text = await readFile(aside, 'utf8').catch(() => '');
  const owner = parseLock(text);
  if (owner !== undefined && isSameProcess(owner.pid, owner.procStart)) await link(aside, path).catch(() => undefined);
  await rm(aside, { force: true });
}

async function releaseIfMine(path: string, mine: string): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '');
  if (text.trim() === mine) await rm(path, { force: true });
}
