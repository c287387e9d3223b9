import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, parseLock } from '../../../../src/fleet/manager/lock.js';
import { isFleetError } from '../../../../src/shared/errors.js';

let dir: string;
let lockFile: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-lock-'));
  lockFile = join(dir, 'manager.lock');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('parseLock', () => {
  it.each([
    ['pid and start', '123 4567\n', { pid: 123, procStart: 4567 }],
    ['pid only', '123', { pid: 123 }],
    ['empty (writer between create and write)', '', undefined],
    ['garbage', 'abc 1', undefined],
  ])('%s', (_name, text, expected) => {
    expect(parseLock(text)).toEqual(expected);
  });
});

describe('acquireLock', () => {
  it('creates a 0600 lock naming us and removes it on release', async () => {
    const lock = await acquireLock(lockFile);
    expect((await stat(lockFile)).mode & 0o777).toBe(0o600);
    expect(parseLock(await readFile(lockFile, 'utf8'))?.pid).toBe(process.pid);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('makes a second holder wait until the first releases', async () => {
    const first = await acquireLock(lockFile);
    const order: string[] = [];
    const second = acquireLock(lockFile).then((l) => {
      order.push('second acquired');
      return l;
    });
    await new Promise((r) => setTimeout(r, 150));
    order.push('first releasing');
    await first.release();
    await (await second).release();
    expect(order).toEqual(['first releasing', 'second acquired']);
  });

  it('gives up with MANAGER_UNAVAILABLE naming the file when a live holder never releases', async () => {
    const held = await acquireLock(lockFile);
    const error = await acquireLock(lockFile, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(isFleetError(error) && error.code).toBe('MANAGER_UNAVAILABLE');
    expect(isFleetError(error) && error.context.lockFile).toBe(lockFile);
    await held.release();
  });

  it('takes over a lock whose holder died', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    await writeFile(lockFile, `${child.pid} 1\n`);
    const lock = await acquireLock(lockFile, { timeoutMs: 30_000 });
    expect(parseLock(await readFile(lockFile, 'utf8'))?.pid).toBe(process.pid);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over an empty lock only once it is old (its writer crashed before writing)', async () => {
    await writeFile(lockFile, '');
    const old = new Date(Date.now() - 60_000);
    await utimes(lockFile, old, old);
    const lock = await acquireLock(lockFile, { timeoutMs: 30_000 });
    await lock.release();
  });
});
