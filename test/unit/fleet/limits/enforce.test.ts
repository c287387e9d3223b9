import { describe, expect, it } from 'vitest';
import { chooseMechanism, type LimitSupport } from '../../../../src/fleet/limits/enforce.js';
import type { BackendLimits } from '../../../../src/fleet/types.js';

const v1: LimitSupport = { probe: { ok: true, host: { version: 'v1', parents: {}, memsw: true, where: 'cgroup v1 under /sys/fs/cgroup/memory/llmspell-fleet' } }, prlimit: '/usr/bin/prlimit' };
const v2: LimitSupport = { probe: { ok: true, host: { version: 'v2', parents: {}, memsw: false, where: 'cgroup v2 under /sys/fs/cgroup/llmspell-fleet' } }, prlimit: undefined };
const noCgroup: LimitSupport = { probe: { ok: false, why: 'cannot write cgroup /sys/fs/cgroup/memory/llmspell-fleet (EACCES)' }, prlimit: '/usr/bin/prlimit' };
const nothing: LimitSupport = { probe: { ok: false, why: 'no cgroup v1 hierarchy is mounted' }, prlimit: undefined };

describe('chooseMechanism', () => {
  it.each<[string, BackendLimits, LimitSupport, string, RegExp]>([
    ['no limits: nothing to do', {}, v1, 'none', /no limits set/],
    ['only the warning percent is not a limit', { memory_warn_percent: 80 }, v1, 'none', /no limits set/],
    ['cgroup v1', { memory_mb: 200 }, v1, 'cgroup-v1', /memory 200 MB by cgroup v1 under/],
    ['cgroup v2', { cpus: 0.5 }, v2, 'cgroup-v2', /cpus 0.5 by cgroup v2 under/],
    ['prlimit, saying why and what is lost', { cpus: 0.5, memory_mb: 100 }, noCgroup, 'prlimit', /no cgroup can be written here \(cannot write .*EACCES\).*prlimit.*cpus cannot be enforced/],
    ['prlimit without loss', { pids: 10 }, noCgroup, 'prlimit', /^(?!.*cannot be enforced)/],
    ['neither: said loudly', { pids: 10 }, nothing, 'none', /limits are NOT enforced/],
  ])('%s', (_, limits, host, mechanism, note) => {
    const chosen = chooseMechanism(limits, host);
    expect(chosen.mechanism).toBe(mechanism);
    expect(chosen.note).toMatch(note);
  });
});

describe('LimitEnforcement where no cgroup can be written: prlimit, for real', () => {
  // An unusable cgroup parent is one way a host offers no cgroup; the fallback is the same.
  const env = { PATH: process.env.PATH, LLMSPELL_FLEET_CGROUP_PARENT: '../not-allowed' };

  it('says why, wraps argv in prlimit, and a backend killed by RLIMIT_CPU is told as cpu-time-limit', async () => {
    const { LimitEnforcement } = await import('../../../../src/fleet/limits/enforce.js');
    const { silentLogger } = await import('../../../../src/shared/log.js');
    const { spawn } = await import('node:child_process');
    const enforcement = await LimitEnforcement.prepare({ kernelId: 'k-prlimit', limits: { cpu_seconds: 1, cpus: 0.5 }, env, logger: silentLogger() });
    expect(enforcement.mechanism).toBe('prlimit');
    expect(enforcement.note).toMatch(/LLMSPELL_FLEET_CGROUP_PARENT.*prlimit.*cpus cannot be enforced/);
    const argv = enforcement.wrap(['/bin/sh', '-c', 'while :; do :; done']);
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
    const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    expect(exit.signal).toBe('SIGXCPU');
    expect(await enforcement.finish({ exitCode: exit.code, signal: exit.signal, requested: false }, silentLogger())).toEqual({
      reason: 'cpu-time-limit',
      cause: 'stopped: cpu time limit 1 s used up',
    });
  }, 30_000);
});
