import { describe, expect, it } from 'vitest';
import {
  doctorExitCode,
  formatDoctor,
  homeCheck,
  limitsCheck,
  pathCandidates,
  providerCheck,
  runtimeCheck,
  llmspellChecks,
  socketCheck,
  type Check,
  type FileFacts,
  type RuntimeFacts,
} from '../../../src/cli/doctor-checks.js';

const dir = (mode: number, uid = 1000): FileFacts => ({ isDirectory: true, isSocket: false, mode, uid });
const sock = (mode: number, uid = 1000): FileFacts => ({ isDirectory: false, isSocket: true, mode, uid });
const file: FileFacts = { isDirectory: false, isSocket: false, mode: 0o600, uid: 1000 };

describe('pathCandidates', () => {
  it.each([
    ['llmspell', '/a:/b/c::', ['/a/llmspell', '/b/c/llmspell']],
    ['llmspell', undefined, []],
    ['/opt/bin/llmspell', '/a', ['/opt/bin/llmspell']],
    ['./rel/tool', '/a', ['./rel/tool']],
  ])('%s on %j', (command, path, expected) => {
    expect(pathCandidates(command, path)).toEqual(expected);
  });
});

describe('homeCheck', () => {
  it.each([
    [undefined, 'OK', undefined],
    [dir(0o700), 'OK', undefined],
    [dir(0o755), 'FAIL', 'chmod 700 /h/f'],
    [dir(0o700, 0), 'FAIL', 'set LLMSPELL_FLEET_HOME (or --home) to a directory of your own'],
    [file, 'FAIL', 'remove it, or set LLMSPELL_FLEET_HOME (or --home) to another directory'],
  ])('%j -> %s', (facts, status, fix) => {
    const c = homeCheck('/h/f', facts, 1000);
    expect(c.status).toBe(status);
    expect(c.fix).toBe(fix);
    expect(c.critical).toBeUndefined();
  });
});

describe('socketCheck', () => {
  it.each([
    [undefined, undefined, 'OK'],
    [sock(0o600), { pid: 77 }, 'OK'],
    [sock(0o600), undefined, 'WARN'],
    [sock(0o666), { pid: 77 }, 'FAIL'],
    [sock(0o600, 0), { pid: 77 }, 'FAIL'],
    [file, { pid: 77 }, 'FAIL'],
  ])('%j answer=%j -> %s', (facts, answer, status) => {
    const c = socketCheck('/h/f/manager.sock', facts, 1000, answer);
    if (status === 'OK' && answer) expect(c.detail).toContain('pid 77');
    expect(c.status).toBe(status);
    if (status !== 'OK') expect(c.fix).toBeTruthy();
  });
});

describe('runtimeCheck', () => {
  const base: RuntimeFacts = { name: 'lua', isDefault: true, provider: 'openai', configFile: '/h/fleet.toml', connection: 'kernel-writes', command: 'llmspell', resolved: '/usr/bin/llmspell' };
  it.each<[string, Partial<RuntimeFacts>, string, RegExp, RegExp | undefined]>([
    ['found', {}, 'OK', /\/usr\/bin\/llmspell \(kernel-writes, provider openai\)/, undefined],
    ['missing on PATH', { resolved: undefined }, 'FAIL', /llmspell not found on the PATH the backend gets/, /build llmspell from rs-llmspell .*, or set runtimes\.lua\.argv\[0\]/],
    ['missing absolute', { command: '/opt/x', resolved: undefined }, 'FAIL', /\/opt\/x not found or not executable/, /argv\[0\]/],
    ['plan error and missing', { resolved: undefined, planError: 'uses {config}, which has no value' }, 'FAIL', /uses \{config\}.*; llmspell not found/, /build llmspell from rs-llmspell/],
    ['another missing program', { command: 'tslab', resolved: undefined }, 'FAIL', /tslab not found/, /install tslab, or set runtimes\.lua\.argv\[0\]/],
    ['plan error only', { command: undefined, resolved: undefined, planError: 'no kernelspec "python3" found' }, 'FAIL', /no kernelspec/, undefined],
    ['kernelspec found', { kernelspec: 'python3', connection: 'router-writes', command: 'python', resolved: '/v/bin/python' }, 'OK', /kernelspec python3, router-writes/, undefined],
    ['kernelspec argv missing', { kernelspec: 'python3', command: 'python9', resolved: undefined }, 'FAIL', /python9 not found/, /kernelspec "python3"/],
  ])('%s', (_name, over, status, detail, fix) => {
    const c = runtimeCheck({ ...base, ...over });
    expect(c.status).toBe(status);
    expect(c.detail).toMatch(detail);
    if (fix) expect(c.fix).toMatch(fix);
    else expect(c.fix).toBeUndefined();
    expect(c.name).toBe('runtime lua (default)');
    expect(c.critical).toBe(true);
  });

  it('only the default runtime is critical', () => {
    const c = runtimeCheck({ ...base, name: 'javascript', isDefault: false, resolved: undefined });
    expect(c.name).toBe('runtime javascript');
    expect(c.critical).toBe(false);
  });
});

describe('providerCheck', () => {
  const base = { name: 'openai', isDefault: false, configExists: false, envKeys: ['LLMSPELL_PROVIDER'], runtimesNeedingConfig: [], fleetConfig: '/h/fleet.toml' };
  it.each([
    ['config present', { configFile: '/c/openai.toml', configExists: true }, 'OK', /config \/c\/openai\.toml; env LLMSPELL_PROVIDER/],
    ['config missing', { configFile: '/c/openai.toml' }, 'FAIL', /\/c\/openai\.toml does not exist/],
    ['no config, none needed', {}, 'OK', /no config file/],
    ['no config, lua needs one', { runtimesNeedingConfig: ['lua'] }, 'WARN', /runtime lua cannot start with it/],
  ])('%s', (_name, over, status, detail) => {
    const c = providerCheck({ ...base, ...over });
    expect(c.status).toBe(status);
    expect(c.detail).toMatch(detail);
  });

  it('names env keys but never values', () => {
    const c = providerCheck({ ...base, envKeys: ['OPENAI_API_KEY'] });
    expect(c.detail).toContain('OPENAI_API_KEY');
  });
});

describe('doctorExitCode', () => {
  const c = (status: Check['status'], critical?: boolean): Check => ({ name: 'x', status, detail: '', critical });
  it.each([
    [[c('OK', true), c('FAIL')], 0],
    [[c('FAIL', true)], 1],
    [[c('WARN', true)], 0],
    [[], 0],
  ])('%j -> %d', (checks, code) => {
    expect(doctorExitCode(checks)).toBe(code);
  });
});

describe('formatDoctor', () => {
  it('puts a fix line under each check that is not OK', () => {
    const text = formatDoctor([
      { name: 'zeromq', status: 'OK', detail: 'loads', fix: 'unused' },
      { name: 'runtime lua (default)', status: 'FAIL', detail: 'llmspell not found', fix: 'install llmspell' },
    ]);
    expect(text).toBe(
      'STATUS  CHECK                  DETAIL\n' +
        'OK      zeromq                 loads\n' +
        'FAIL    runtime lua (default)  llmspell not found\n' +
        '        fix: install llmspell\n',
    );
  });
});

describe('llmspellChecks', () => {
  it.each([
    ['found, isolated', { resolved: '/u/bin/llmspell', version: 'llmspell 0.14.1', isolation: 'netns' as const }, ['llmspell:OK', 'llmspell isolation:OK'], /llmspell 0\.14\.1/],
    ['missing (the runtime check fails for it), isolated', { isolation: 'netns' as const }, ['llmspell isolation:OK'], /private network namespace/],
    ['found, not isolated, with the reason', { resolved: '/u/bin/llmspell', isolation: 'none' as const, isolationNote: 'unshare -rn fails here' }, ['llmspell:OK', 'llmspell isolation:WARN'], /any local user.*unshare -rn fails here/],
  ])('%s', (_name, over, verdicts, detail) => {
    const checks = llmspellChecks({ runtime: 'lua', ...over });
    expect(checks.map((c) => `${c.name}:${c.status}`)).toEqual(verdicts);
    expect(checks.map((c) => c.detail).join('\n')).toMatch(detail);
  });
});

describe('limitsCheck: which mechanism enforces resource limits here', () => {
  const fallback = "no cgroup can be written here (cannot write cgroup /sys/fs/cgroup/memory/llmspell-fleet (EACCES)): falling back to prlimit (memory as address space, pids per user, cpu time per process); cpus cannot be enforced this way";
  it.each<[string, Parameters<typeof limitsCheck>[0], string, RegExp]>([
    ['cgroups, limits set', { configured: ['runtimes.python: memory 512 MB'], mechanism: 'cgroup-v1', where: 'cgroup v1 under /sys/fs/cgroup/memory/llmspell-fleet', note: '' }, 'OK', /runtimes.python: memory 512 MB; enforced by cgroup v1 under/],
    ['cgroups, nothing set', { configured: [], mechanism: 'cgroup-v2', where: 'cgroup v2 under /sys/fs/cgroup/x', note: '' }, 'OK', /none set in fleet.toml; enforced by cgroup v2/],
    ['prlimit, nothing set: only informs', { configured: [], mechanism: 'prlimit', note: fallback }, 'OK', /none set.*if set: no cgroup/],
    ['prlimit with limits set: a warning that says why and what is lost', { configured: ['providers.ollama: cpus 2'], mechanism: 'prlimit', note: fallback }, 'WARN', /EACCES.*prlimit.*cpus cannot be enforced/],
    ['nothing at all', { configured: ['runtimes.python: pids 10'], mechanism: 'none', note: 'limits are NOT enforced' }, 'WARN', /NOT enforced/],
  ])('%s', (_, facts, status, detail) => {
    const check = limitsCheck(facts);
    expect(check.status).toBe(status);
    expect(check.detail).toMatch(detail);
    if (status === 'WARN') expect(check.fix).toMatch(/cgroup/);
  });
});
