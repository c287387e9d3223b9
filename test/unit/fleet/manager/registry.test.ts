import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BackendRecord } from '../../../../src/fleet/manager/protocol.js';
import {
  decideAdoption,
  isOwnConnectionFile,
  parseRegistry,
  readRegistry,
  registryPath,
  serializeRegistry,
  toRegistryRecord,
  writeRegistry,
} from '../../../../src/fleet/manager/registry.js';

function record(overrides: Partial<BackendRecord> = {}): BackendRecord {
  return {
    kernelId: 'lua-openai-0011aabb',
    pid: 4242,
    requirement: { runtime: 'lua', provider: 'openai' },
    state: 'ready',
    interruptMode: 'signal',
    connectionFile: '/home/u/.llmspell/fleet/backends/lua-openai-0011aabb.json',
    logFile: '/home/u/.llmspell/fleet/logs/lua-openai-0011aabb.log',
    startedAt: 1_700_000_000_000,
    ports: [5001, 5002, 5003, 5004, 5005],
    ip: '127.0.0.1',
    attached: [{ routerId: 'r1', pid: 99 }],
    procStart: 123456,
    ...overrides,
  };
}

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fleet-registry-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('registry file', () => {
  it('round-trips records, mode 0600, leaving no temporary file', async () => {
    const records = [
      record(),
      record({ kernelId: 'py-x-1', pid: 77, requirement: { runtime: 'py', provider: 'x', group: 'g' }, attached: [], idleSince: 5, cwd: '/nb' }),
      record({ kernelId: 'pyc-x-2', pid: 78, container: { engine: 'podman', name: 'llmspell-fleet-pyc-x-2', cgroupParent: '/llmspell-fleet-pyc-x-2', memoryMb: 128 } }),
      // A pod backend: its pid is the local stand-in's; the pod and Secret are found again by name.
      record({ kernelId: 'pyk-x-1', pid: 79, kube: { namespace: 'kernels', pod: 'llmspell-pyk-x-1', secret: 'llmspell-pyk-x-1-connection', fleet: '0123456789abcdef', kubeconfig: '/home/a/.kube/config', context: 'prod', memoryMb: 256 } }),
      record({ kernelId: 'py-x-2', spare: 'ready' }), record({ kernelId: 'py-x-3', spare: 'warming' }),
      // A manager that adopts it watches its limits again (and finds its cgroup by kernel id).
      record({ kernelId: 'py-x-4', limits: { memory_mb: 200, cpus: 0.5, memory_warn_percent: 80 }, enforcedBy: 'cgroup-v1' }),
    ];
    await writeRegistry(home, records);
    expect((await stat(registryPath(home))).mode & 0o777).toBe(0o600);
    expect(await readdir(home)).toEqual(['registry.json']);
    expect(await readRegistry(home)).toEqual({ records });
  });

  it('never stores what is not a record field (connection keys, env)', async () => {
    const leaky = { ...record(), connection: { key: 'hmac-secret' }, env: { OPENAI_API_KEY: 'sk-secret' } } as BackendRecord;
    await writeRegistry(home, [leaky]);
    const text = await readFile(registryPath(home), 'utf8');
    expect(text).not.toContain('secret');
    expect(toRegistryRecord(leaky)).toEqual(record());
  });

  it('is always a whole file while many writes overlap', async () => {
    const writes = Array.from({ length: 30 }, (_, i) => writeRegistry(home, Array.from({ length: i + 1 }, (_, j) => record({ kernelId: `k-${j}` }))));
    await Promise.all(writes);
    const read = await readRegistry(home);
    expect(read.problem).toBeUndefined();
    expect(read.records.length).toBeGreaterThan(0);
    expect(await readdir(home)).toEqual(['registry.json']);
  });

  it('reads a missing registry as empty, without a problem', async () => {
    expect(await readRegistry(home)).toEqual({ records: [] });
  });

  it.each([
    ['not JSON', '{"backends": [', 0, 'not valid JSON'],
    ['no backends list', '{"version": 1}', 0, 'no backends list'],
    ['one malformed entry', JSON.stringify({ backends: [record(), { kernelId: 'x' }] }), 1, 'skipped 1 malformed entry'],
    ['pid 1 is never a backend', JSON.stringify({ backends: [record({ pid: 1 })] }), 0, 'skipped 1 malformed entry (first: backends[0].pid must be a pid > 1 (got 1))'],
    ['relative connection file', JSON.stringify({ backends: [record({ connectionFile: 'x.json' })] }), 0, 'skipped 1 malformed entry (first: backends[0].connectionFile must be an absolute path (got "x.json"))'],
    ['a bad attachment', JSON.stringify({ backends: [record(), record({ attached: [null as never] })] }), 1, '(first: backends[1].attached[0] must be {routerId, pid} (got null))'],
    ['a missing field, then an unknown state', JSON.stringify({ backends: [{ ...record(), logFile: undefined }, record({ state: 'zombie' as never })] }), 0, 'skipped 2 malformed entries (first: backends[0].logFile is missing)'],
    ['an entry that is not a record', JSON.stringify({ backends: [7] }), 0, '(first: backends[0] must be a backend record (got 7))'],
    ['an unknown container engine', JSON.stringify({ backends: [record({ container: { engine: 'lxc' as never, name: 'c' } })] }), 0, 'backends[0].container.engine must be one of "podman", "docker"'],
    ['a container name with a path in it', JSON.stringify({ backends: [record({ container: { engine: 'podman', name: '../c' } })] }), 0, 'backends[0].container.name must be a container name'],
    ['a pod backend without its Secret', JSON.stringify({ backends: [record({ kube: { namespace: 'k', pod: 'p', fleet: 'f' } as never })] }), 0, 'backends[0].kube.secret must be {namespace, pod, secret, fleet'],
    ['a spare in an unknown stage', JSON.stringify({ backends: [record(), record({ spare: 'cold' as never })] }), 1, '(first: backends[1].spare must be one of "warming", "ready" (got "cold"))'],
  ])('parseRegistry: %s', (_name, text, count, problem) => {
    const read = parseRegistry(text, 'registry.json');
    expect(read.records).toHaveLength(count);
    expect(read.problem).toContain(problem);
  });

  it('drops fields it does not know when reading, as when writing', () => {
    const read = parseRegistry(JSON.stringify({ backends: [{ ...record(), key: 'secret', env: { A: '1' } }] }), 'registry.json');
    expect(read.records).toEqual([toRegistryRecord(record())]);
  });

  it('serializes with who wrote it', () => {
    const file = JSON.parse(serializeRegistry([record()], 321, 1000)) as Record<string, unknown>;
    expect(file).toMatchObject({ version: 1, managerPid: 321, writtenAt: 1000 });
  });
});

describe('decideAdoption', () => {
  it.each([
    ['alive, same start time', record(), { alive: true, procStart: 123456 }, 'adopt', undefined, undefined],
    ['dead pid', record(), { alive: false }, 'forget', 'dead', true],
    ['pid reused by another process', record(), { alive: true, procStart: 999 }, 'forget', 'pid-reused', true],
    ['no recorded start time: cannot prove it is ours', record({ procStart: undefined }), { alive: true, procStart: 5 }, 'forget', 'unverifiable', false],
    ['recorded as exited', record({ state: 'exited' }), { alive: true, procStart: 123456 }, 'forget', 'dead', true],
  ] as const)('%s', (_name, r, liveness, action, reason, removeFiles) => {
    const d = decideAdoption(r, liveness);
    expect(d.action).toBe(action);
    if (d.action === 'forget') expect({ reason: d.reason, removeFiles: d.removeFiles }).toEqual({ reason, removeFiles });
  });
});

describe('isOwnConnectionFile', () => {
  it.each([
    ['in backends/', '/h/backends/k.json', true],
    ['elsewhere', '/etc/k.json', false],
    ['nested deeper', '/h/backends/x/k.json', false],
    ['escaping with ..', '/h/backends/../k.json', false],
    ['relative', 'backends/k.json', false],
    ['not json', '/h/backends/k.txt', false],
  ])('%s', (_name, path, expected) => {
    expect(isOwnConnectionFile('/h', path)).toBe(expected);
  });
});

it('a stale file of ours is overwritten atomically (rename), not appended', async () => {
  await writeFile(registryPath(home), 'garbage that is long enough to show through if we appended\n');
  await writeRegistry(home, [record()]);
  expect(parseRegistry(await readFile(registryPath(home), 'utf8'), 'r').records).toEqual([record()]);
});
