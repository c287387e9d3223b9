import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  backendCgroupPath,
  cgroupParent,
  cgroupSettings,
  cpuSeconds,
  joinCgroupArgv,
  limitVerdict,
  memoryPercent,
  parseCgroupMounts,
  parseFlatKeyed,
  parseProcCgroup,
  readCounter,
  type CgroupSetting,
  type CgroupVersion,
  type VerdictInput,
} from '../../../../src/fleet/limits/cgroup-layout.js';
import type { BackendLimits } from '../../../../src/fleet/types.js';

const run = promisify(execFile);
const MB = 1024 * 1024;

describe('cgroupSettings: limits to files and values', () => {
  it.each<[string, CgroupVersion, BackendLimits, boolean, CgroupSetting[]]>([
    ['nothing set', 'v1', {}, true, []],
    ['v1 memory without swap accounting', 'v1', { memory_mb: 512 }, false, [{ controller: 'memory', file: 'memory.limit_in_bytes', value: String(512 * MB) }]],
    [
      'v1 memory with memsw: the swap limit after the memory one',
      'v1',
      { memory_mb: 200 },
      true,
      [
        { controller: 'memory', file: 'memory.limit_in_bytes', value: String(200 * MB) },
        { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: String(200 * MB) },
      ],
    ],
    [
      'v1 half a core: quota is a share of the period',
      'v1',
      { cpus: 0.5 },
      false,
      [
        { controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000' },
        { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '50000' },
      ],
    ],
    [
      'v1 two and a half cores',
      'v1',
      { cpus: 2.5 },
      false,
      [
        { controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000' },
        { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '250000' },
      ],
    ],
    ['v1 a tiny share is raised to the kernel minimum (1 ms)', 'v1', { cpus: 0.001 }, false, [
      { controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000' },
      { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '1000' },
    ]],
    ['v1 pids', 'v1', { pids: 64 }, false, [{ controller: 'pids', file: 'pids.max', value: '64' }]],
    ['cpu_seconds and idle culling are not files: the manager watches them', 'v1', { cpu_seconds: 30, idle_cull_seconds: 60 }, true, []],
    [
      'v2 memory turns swap off',
      'v2',
      { memory_mb: 512 },
      false,
      [
        { controller: 'unified', file: 'memory.max', value: String(512 * MB) },
        { controller: 'unified', file: 'memory.swap.max', value: '0' },
      ],
    ],
    ['v2 half a core', 'v2', { cpus: 0.5 }, false, [{ controller: 'unified', file: 'cpu.max', value: '50000 100000' }]],
    ['v2 pids', 'v2', { pids: 10 }, false, [{ controller: 'unified', file: 'pids.max', value: '10' }]],
    ['fractional MB round to bytes', 'v2', { memory_mb: 0.5 }, false, [
      { controller: 'unified', file: 'memory.max', value: String(MB / 2) },
      { controller: 'unified', file: 'memory.swap.max', value: '0' },
    ]],
  ])('%s', (_, version, limits, memsw, expected) => {
    expect(cgroupSettings(version, limits, { memsw })).toEqual(expected);
  });
});

describe('reading cgroup files', () => {
  it.each<[string, string, Record<string, number>]>([
    ['v1 memory.oom_control', 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n', { oom_kill_disable: 0, under_oom: 0, oom_kill: 2 }],
    ['v2 memory.events', 'low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n', { low: 0, high: 0, max: 12, oom: 1, oom_kill: 1, oom_group_kill: 0 }],
    ['pids.events', 'max 7\n', { max: 7 }],
    ['a line without a number is skipped', 'max x\nok 1\n\n', { ok: 1 }],
  ])('parseFlatKeyed: %s', (_, text, expected) => {
    expect(parseFlatKeyed(text)).toEqual(expected);
  });

  it.each<[string, string | undefined, number | undefined]>([
    ['123456\n', undefined, 123456],
    ['max\n', undefined, undefined],
    ['', undefined, undefined],
    ['usage_usec 900\nuser_usec 800\n', 'usage_usec', 900],
    ['usage_usec 900\n', 'oom_kill', undefined],
  ])('readCounter(%j, %s) = %s', (text, key, expected) => {
    expect(readCounter(text, key)).toBe(expected);
  });

  it.each<[CgroupVersion, number, number]>([
    ['v1', 2_500_000_000, 2.5],
    ['v2', 2_500_000, 2.5],
  ])('cpuSeconds %s %d = %d s', (version, raw, seconds) => {
    expect(cpuSeconds(version, raw)).toBe(seconds);
  });

  it('parseProcCgroup: v1 controllers (joined ones too) and the v2 path', () => {
    const text = '9:name=systemd:/\n4:memory:/process_api/abc\n3:cpu,cpuacct:/x\n1:pids:/\n0::/user.slice\n';
    expect(parseProcCgroup(text)).toEqual({ v1: { 'name=systemd': '/', memory: '/process_api/abc', cpu: '/x', cpuacct: '/x', pids: '/' }, v2: '/user.slice' });
  });

  it('parseCgroupMounts: v1 hierarchies by controller, cgroup2 mount points', () => {
    const text = [
      'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
      'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0',
      'cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0',
      'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
    ].join('\n');
    const mounts = parseCgroupMounts(text);
    expect(mounts.v1.cpu).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(mounts.v1.cpuacct).toBe('/sys/fs/cgroup/cpu,cpuacct');
    expect(mounts.v1.memory).toBe('/sys/fs/cgroup/memory');
    expect(mounts.v1.pids).toBeUndefined();
    expect(mounts.v2).toEqual(['/sys/fs/cgroup/unified']);
  });
});

describe('where a backend cgroup lives', () => {
  it.each<[string, string, string, string]>([
    ['/', 'llmspell-fleet', 'python-openai-1', '/llmspell-fleet/python-openai-1'],
    ['/process_api/abc', 'llmspell-fleet', 'k1', '/process_api/abc/llmspell-fleet/k1'],
    ['/user.slice/', 'a/b', 'k', '/user.slice/a/b/k'],
  ])('under %s, parent %s: %s', (own, parent, kernelId, expected) => {
    expect(backendCgroupPath(own, parent, kernelId)).toBe(expected);
  });

  it.each<[string | undefined, string | TypeError]>([
    [undefined, 'llmspell-fleet'],
    ['', 'llmspell-fleet'],
    ['tests-1/run_2', 'tests-1/run_2'],
    ['../escape', new TypeError('')],
    ['/absolute', new TypeError('')],
    ['a b', new TypeError('')],
    ['a/./b', new TypeError('')],
  ])('LLMSPELL_FLEET_CGROUP_PARENT=%j', (raw, expected) => {
    const env = raw === undefined ? {} : { LLMSPELL_FLEET_CGROUP_PARENT: raw };
    if (expected instanceof TypeError) expect(() => cgroupParent(env)).toThrow(/LLMSPELL_FLEET_CGROUP_PARENT/);
    else expect(cgroupParent(env)).toBe(expected);
  });
});

describe('joinCgroupArgv: the wrapper joins, then execs argv untouched', () => {
  it('writes its own pid (which argv keeps) to every file, then runs argv with hostile arguments as they are', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cgroup-join-'));
    try {
      const files = [join(dir, 'a procs'), join(dir, 'b')];
      const hostile = ['$(touch pwned)', '"; echo no', '--', '*'];
      const argv = joinCgroupArgv(files, ['/bin/sh', '-c', 'echo $$; printf "%s\\n" "$@"', 'argv0', ...hostile]);
      const { stdout } = await run(argv[0]!, argv.slice(1), { cwd: dir });
      const [pid, ...args] = stdout.trimEnd().split('\n');
      expect(args).toEqual(hostile);
      for (const f of files) expect((await readFile(f, 'utf8')).trim()).toBe(pid);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not run argv when a join fails (exit 126)', async () => {
    const argv = joinCgroupArgv(['/nonexistent/dir/cgroup.procs'], ['/bin/echo', 'ran']);
    await expect(run(argv[0]!, argv.slice(1))).rejects.toMatchObject({ code: 126, stdout: '' });
  });
});

describe('limitVerdict: which limit ended a backend', () => {
  const limits: BackendLimits = { memory_mb: 512, pids: 64, cpu_seconds: 30 };
  const base: VerdictInput = { limits, requested: false, signal: null, exitCode: 1, oomKills: 0, pidsMaxHits: 0, cpuTimeUsedUp: false };
  it.each<[string, Partial<VerdictInput>, { reason: string; cause: string } | undefined]>([
    ['the OOM killer and SIGKILL', { signal: 'SIGKILL', exitCode: null, oomKills: 1 }, { reason: 'memory-limit', cause: 'killed: memory limit 512 MB reached' }],
    ['adopted: OOM kills and an unknown end', { signal: null, exitCode: null, oomKills: 1 }, { reason: 'memory-limit', cause: 'killed: memory limit 512 MB reached' }],
    ['SIGKILL from outside, no OOM kill: not memory', { signal: 'SIGKILL', exitCode: null }, undefined],
    ['an OOM kill of a child, then a crash with a code: not memory', { exitCode: 1, oomKills: 1 }, undefined],
    ['stopped by the fleet after an OOM kill of a child', { requested: true, signal: 'SIGTERM', exitCode: null, oomKills: 1 }, undefined],
    ['a refused fork, then a crash', { exitCode: 1, pidsMaxHits: 3 }, { reason: 'pids-limit', cause: 'ended after its process limit (pids 64) refused a new process or thread' }],
    ['a refused fork, then a clean exit', { exitCode: 0, pidsMaxHits: 3 }, undefined],
    ['cpu_seconds used up wins even though the fleet stopped it', { requested: true, cpuTimeUsedUp: true }, { reason: 'cpu-time-limit', cause: 'stopped: cpu time limit 30 s used up' }],
    ['a plain crash', {}, undefined],
  ])('%s', (_, input, expected) => {
    expect(limitVerdict({ ...base, ...input })).toEqual(expected);
  });
});

describe('memoryPercent', () => {
  it.each<[number, BackendLimits, number | undefined]>([
    [100 * MB, { memory_mb: 200 }, 50],
    [180 * MB, { memory_mb: 200 }, 90],
    [180 * MB, {}, undefined],
  ])('%d bytes of %j', (usage, limits, expected) => {
    expect(memoryPercent(usage, limits)).toBe(expected);
  });
});
