import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/shared/log.js';
import { climbStopLadder, pollUntil, runCommand, spawnDetached, type LadderTarget } from '../../../src/shared/process.js';

const NODE = process.execPath;
const env = { PATH: process.env.PATH };

describe('runCommand', () => {
  it('returns stdout and stderr of a command that exits 0, with exactly the env given', async () => {
    const r = await runCommand(NODE, ['-e', 'process.stdout.write(String(process.env.ONLY)); process.stderr.write("e")'], {
      env: { ONLY: 'this', DROPPED: undefined },
      timeoutMs: 30_000,
    });
    expect(r).toEqual({ stdout: 'this', stderr: 'e' });
  });

  it('passes arguments as words, never through a shell', async () => {
    const r = await runCommand(NODE, ['-e', 'console.log(process.argv[1])', '$(echo no) ; `x`'], { env, timeoutMs: 30_000 });
    expect(r.stdout).toBe('$(echo no) ; `x`\n');
  });

  it.each([
    ['a non-zero exit', ['-e', 'console.error("boom"); process.exit(3)'], 60_000, /exited with code 3: boom/],
    ['a timeout', ['-e', 'setInterval(() => {}, 1000)'], 300, /did not finish within 300 ms/],
  ])('rejects on %s, saying what happened', async (_name, args, timeoutMs, message) => {
    await expect(runCommand(NODE, args, { env, timeoutMs })).rejects.toThrow(message);
  });

  it('rejects with the errno when the executable does not exist', async () => {
    await expect(runCommand('/nonexistent/llmspell-probe', [], { env, timeoutMs: 1000 })).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops a command that writes more than maxBytes', async () => {
    const args = ['-e', 'process.stdout.write("x".repeat(100000)); setInterval(() => {}, 1000)'];
    await expect(runCommand(NODE, args, { env, timeoutMs: 60_000, maxBytes: 1000 })).rejects.toThrow(/more than 1000 bytes/);
  });
});

describe('spawnDetached', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-process-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts the child in its own process group with stdout and stderr in one file', async () => {
    const file = join(dir, 'out.log');
    const log = await open(file, 'a', 0o600);
    const child = spawnDetached(NODE, ['-e', 'console.log("out"); console.error("err")'], { env: { PATH: env.PATH ?? '' }, outputFd: log.fd, cwd: dir });
    const exited = once(child, 'exit');
    await log.close();
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect((await readFile(file, 'utf8')).split('\n').sort()).toEqual(['', 'err', 'out']);
  });

  it('gives the child its own process group (pgid == pid)', async () => {
    const log = await open(join(dir, 'pgid.log'), 'a', 0o600);
    const child = spawnDetached(NODE, ['-e', 'setInterval(() => {}, 1000)'], { env: {}, outputFd: log.fd });
    // Both listeners before any await: 'spawn' fires on the next tick.
    const spawned = once(child, 'spawn');
    const exited = once(child, 'exit');
    await log.close();
    await spawned;
    try {
      // /proc/<pid>/stat: "pid (comm) state ppid pgrp ..."; comm is node, without spaces.
      const fields = (await readFile(`/proc/${child.pid}/stat`, 'utf8')).split(' ');
      expect(Number(fields[4])).toBe(child.pid);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });
});

/** A process that leaves after the n-th signal (0: already gone, Infinity: never). */
function fakeTarget(leavesOn: number): LadderTarget & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    alive: () => leavesOn > 0,
    signal: (s) => void sent.push(s),
    goneWithin: () => Promise.resolve(sent.length >= leavesOn),
  };
}

describe('climbStopLadder', () => {
  it.each([
    ['already gone', 0, [], true],
    ['leaves on SIGTERM', 1, ['SIGTERM'], true],
    ['leaves on SIGKILL', 2, ['SIGTERM', 'SIGKILL'], true],
    ['never leaves', Infinity, ['SIGTERM', 'SIGKILL'], false],
  ])('%s: sends %j', async (_name, leavesOn, signals, gone) => {
    const target = fakeTarget(leavesOn);
    expect(await climbStopLadder(target, { graceMs: 1, killMs: 1 }, { logger: silentLogger(), what: 'test', fields: {} })).toBe(gone);
    expect(target.sent).toEqual(signals);
  });
});

describe('pollUntil', () => {
  it.each([
    ['true at once', [true], true],
    ['true on the third look', [false, false, true], true],
    ['never true within the time', [false], false],
  ])('%s', async (_name, answers, result) => {
    let i = 0;
    const look = () => answers[Math.min(i++, answers.length - 1)] as boolean;
    expect(await pollUntil(look, answers.length > 1 ? 60_000 : 20, 1)).toBe(result);
  });
});
