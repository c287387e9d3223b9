import { describe, expect, it } from 'vitest';
import { containerName, containerRunArgv, endedByMemoryLimit, isNoSuchContainer, limitFlags, type ContainerRunSpec } from '../../../../src/fleet/launchers/container-argv.js';

const MB = 1024 * 1024;

describe('limitFlags', () => {
  it.each([
    ['no limits', {}, []],
    ['memory: the same for swap, in bytes', { memory_mb: 512 }, ['--memory', `${512 * MB}b`, '--memory-swap', `${512 * MB}b`]],
    ['fractional memory rounds to a byte', { memory_mb: 0.5 }, ['--memory', `${MB / 2}b`, '--memory-swap', `${MB / 2}b`]],
    ['cpus keeps its fraction', { cpus: 0.5 }, ['--cpus', '0.5']],
    ['pids', { pids: 64 }, ['--pids-limit', '64']],
    ['culling and warnings are the fleet\'s, not the engine\'s', { idle_cull_seconds: 60, memory_warn_percent: 80 }, []],
    ['all three', { memory_mb: 1, cpus: 2, pids: 10 }, ['--memory', `${MB}b`, '--memory-swap', `${MB}b`, '--cpus', '2', '--pids-limit', '10']],
  ])('%s', (_name, limits, flags) => {
    expect(limitFlags(limits)).toEqual(flags);
  });
});

const SPEC: ContainerRunSpec = {
  engine: 'podman',
  image: 'localhost/kernel:1',
  name: 'llmspell-fleet-py-openai-0a1b2c3d',
  kernelId: 'py-openai-0a1b2c3d',
  home: '/home/u/.llmspell-fleet',
  argv: ['python', '-m', 'ipykernel_launcher', '-f', '/home/u/.llmspell-fleet/backends/py-openai-0a1b2c3d.json'],
  envNames: [],
  readOnlyFiles: [],
  limits: {},
};
const HEAD = [
  'podman', 'run', '--name', 'llmspell-fleet-py-openai-0a1b2c3d',
  '--label', 'io.llmspell-fleet.kernel-id=py-openai-0a1b2c3d', '--label', 'io.llmspell-fleet.home=/home/u/.llmspell-fleet',
  '--pull', 'never', '--network', 'host', '--init', '--sig-proxy=true',
];
const TAIL = ['--', 'localhost/kernel:1', 'python', '-m', 'ipykernel_launcher', '-f', '/home/u/.llmspell-fleet/backends/py-openai-0a1b2c3d.json'];

describe('containerRunArgv', () => {
  it.each<[string, Partial<ContainerRunSpec>, string[]]>([
    ['the bare command', {}, [...HEAD, ...TAIL]],
    ['docker takes the same flags', { engine: 'docker' }, ['docker', ...HEAD.slice(1), ...TAIL]],
    ['a directory of its own mounted read-write (curve: the kernel rewrites its copy)', { readOnlyFiles: ['/h/openai.toml'], writableDirs: ['/h/b/k.d'] }, [...HEAD, '--volume', '/h/openai.toml:/h/openai.toml:ro', '--volume', '/h/b/k.d:/h/b/k.d', ...TAIL]],
    ['files mounted read-only at their own path', { readOnlyFiles: ['/h/b/k.json', '/h/openai.toml'] }, [...HEAD, '--volume', '/h/b/k.json:/h/b/k.json:ro', '--volume', '/h/openai.toml:/h/openai.toml:ro', ...TAIL]],
    ['env by name only: values (API keys) never reach argv', { envNames: ['OPENAI_API_KEY', 'JPY_PARENT_PID'] }, [...HEAD, '--env', 'OPENAI_API_KEY', '--env', 'JPY_PARENT_PID', ...TAIL]],
    ['limits and a cgroup parent', { limits: { pids: 5 }, cgroupParent: '/llmspell-fleet-k' }, [...HEAD, '--cgroup-parent', '/llmspell-fleet-k', '--pids-limit', '5', ...TAIL]],
    // `--` ends the engine's options: an argv element that looks like a flag stays the kernel's.
    ['a kernel argument that looks like an engine flag', { argv: ['--privileged'] }, [...HEAD, '--', 'localhost/kernel:1', '--privileged']],
  ])('%s', (_name, change, argv) => {
    expect(containerRunArgv({ ...SPEC, ...change })).toEqual(argv);
  });

  it('names a container after its kernel id', () => {
    expect(containerName('py-openai-0a1b2c3d')).toBe('llmspell-fleet-py-openai-0a1b2c3d');
  });
});

describe('endedByMemoryLimit', () => {
  it.each([
    ['the engine says so', { oomKilled: true, exitCode: 137 }, { memory_mb: 128 }, true],
    ['no memory limit, no memory-limit death', { oomKilled: true, exitCode: 137 }, {}, false],
    ['SIGKILL at the limit (cgroup v1 hosts: no engine flag)', { oomKilled: false, exitCode: 137, peakBytes: 128 * MB + 1 }, { memory_mb: 128 }, true],
    ['SIGKILL well below the limit: a kill from outside', { oomKilled: false, exitCode: 137, peakBytes: 60 * MB }, { memory_mb: 128 }, false],
    ['at the limit but exited by itself', { oomKilled: false, exitCode: 1, peakBytes: 128 * MB }, { memory_mb: 128 }, false],
    ['SIGKILL and no peak known', { oomKilled: false, exitCode: 137 }, { memory_mb: 128 }, false],
  ])('%s -> %s', (_name, end, limits, expected) => {
    expect(endedByMemoryLimit(end, limits)).toBe(expected);
  });
});

describe('isNoSuchContainer', () => {
  it.each([
    ['Error: no container with name or id "x" found: no such container', true],
    ['Error response from daemon: No such container: x', true],
    ['Error: cannot remove container x: permission denied', false],
  ])('%s -> %s', (stderr, expected) => {
    expect(isNoSuchContainer(stderr)).toBe(expected);
  });
});
