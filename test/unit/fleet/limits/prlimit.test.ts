import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { findPrlimit, prlimitArgv, prlimitOptions } from '../../../../src/fleet/limits/prlimit.js';
import type { BackendLimits } from '../../../../src/fleet/types.js';

const run = promisify(execFile);

describe('prlimitOptions', () => {
  it.each<[string, BackendLimits, string[], string[]]>([
    ['nothing', {}, [], []],
    ['memory as address space, in bytes', { memory_mb: 300 }, [`--as=${300 * 1024 * 1024}`], []],
    ['pids as processes per user', { pids: 50 }, ['--nproc=50'], []],
    ['cpu seconds, rounded up; the hard limit a second later', { cpu_seconds: 7.2 }, ['--cpu=8:9'], []],
    ['cpus cannot be enforced', { cpus: 0.5, pids: 5 }, ['--nproc=5'], ['cpus']],
  ])('%s', (_, limits, options, unenforced) => {
    expect(prlimitOptions(limits)).toEqual({ options, unenforced });
  });
});

describe('prlimitArgv with the real prlimit', () => {
  it('runs argv with the rlimits set, arguments untouched', async () => {
    const prlimit = await findPrlimit(process.env.PATH);
    expect(prlimit, 'prlimit (util-linux) must be installed').toBeDefined();
    const argv = prlimitArgv(prlimit!, { memory_mb: 300, pids: 50, cpu_seconds: 7 }, ['/bin/cat', '/proc/self/limits']);
    const { stdout } = await run(argv[0]!, argv.slice(1));
    expect(stdout).toMatch(new RegExp(`Max address space\\s+${300 * 1024 * 1024}\\s+${300 * 1024 * 1024}`));
    expect(stdout).toMatch(/Max processes\s+50\s+50/);
    expect(stdout).toMatch(/Max cpu time\s+7\s+8/);
  });
});
