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
