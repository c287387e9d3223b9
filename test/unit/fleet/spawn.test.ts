import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import { readLogTail, spawnBackend, spawnError } from '../../../src/fleet/spawn.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fleet-spawn-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn x ${code}`), { code });
}

describe('spawnError', () => {
  it.each([
    { code: 'ENOENT', file: 'llmspell', expected: 'not found on PATH' },
    { code: 'ENOENT', file: '/opt/llmspell/bin/llmspell', expected: 'not found at /opt/llmspell/bin/llmspell' },
    { code: 'EACCES', file: './llmspell', expected: 'not executable' },
    { code: 'E2BIG', file: 'llmspell', expected: 'could not start' },
  ])('$code for $file', ({ code, file, expected }) => {
    const error = spawnError(errno(code), { file, configKey: 'runtimes.llmspell.argv' });
    expect(error.code).toBe('SPAWN_FAILED');
    expect(error.context).toMatchObject({ file, errno: code, configKey: 'runtimes.llmspell.argv' });
    expect(error.message).toContain(expected);
    expect(error.message).toContain('runtimes.llmspell.argv');
  });
});

describe('readLogTail', () => {
  it('reads only from the offset, and at most maxBytes', async () => {
    const file = join(dir, 'x.log');
    await writeFile(file, 'old run\nline1\nline2\nline3\n');
    expect(await readLogTail(file, { fromOffset: 'old run\n'.length })).toBe('line1\nline2\nline3');
    expect(await readLogTail(file, { lines: 1 })).toBe('line3');
    // A window that starts mid-line drops the broken line.
    expect(await readLogTail(file, { maxBytes: 9 })).toBe('line3');
  });

  it('is empty, not an error, for a missing log', async () => {
    expect(await readLogTail(join(dir, 'missing.log'))).toBe('');
  });
});

describe('spawnBackend', () => {
  it('never signals a child that has been reaped', async () => {
    const child = await spawnBackend({
      argv: [process.execPath, '-e', 'process.stdout.write("bye\\n")'],
      env: { PATH: process.env.PATH ?? '' },
      logFile: join(dir, 'logs', 'c.log'),
      configKey: 'k',
    });
    expect(await child.exit).toEqual({ exitCode: 0, signal: null });
    expect(child.alive).toBe(false);
    expect(child.signalGroup('SIGKILL')).toBe(false);
    expect(await readLogTail(join(dir, 'logs', 'c.log'), { fromOffset: child.logOffset })).toBe('bye');
    expect((await stat(join(dir, 'logs', 'c.log'))).mode & 0o777).toBe(0o600);
  });

  it('passes exactly the given environment, without a shell', async () => {
    const child = await spawnBackend({
      argv: [process.execPath, '-e', 'console.log(JSON.stringify([process.env.ONLY, process.env.HOME ?? null, process.argv[1]]))', '$HOME; echo'],
      env: { ONLY: 'this' },
      logFile: join(dir, 'e.log'),
      configKey: 'k',
    });
    await child.exit;
    expect(JSON.parse(await readLogTail(join(dir, 'e.log')))).toEqual(['this', null, '$HOME; echo']);
  });

  it('throws SPAWN_FAILED with errno for a missing executable', async () => {
    const error = await spawnBackend({ argv: [join(dir, 'nope')], env: {}, logFile: join(dir, 'n.log'), configKey: 'k' }).catch((e: unknown) => e);
    expect(isFleetError(error) && error.code).toBe('SPAWN_FAILED');
    expect(isFleetError(error) && error.context.errno).toBe('ENOENT');
  });
});
