import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { containerMemoryWatch } from '../../../../src/fleet/limits/container-watch.js';
import { watchLimits } from '../../../../src/fleet/limits/watch.js';

const MB = 1024 * 1024;
let root = '';

afterEach(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
  root = '';
});

describe('containerMemoryWatch: the memory of the cgroup above a container', () => {
  it.each([
    ['no memory_mb', { cgroupParent: '/llmspell-fleet-k1' }],
    ['no cgroup of ours above it (docker, rootless, cgroup v2)', { memoryMb: 128 }],
  ])('nothing to watch: %s', (_name, ref) => {
    expect(containerMemoryWatch(ref)).toBeUndefined();
  });

  it('carries memory_warn_percent, reads only memory, and nothing once the cgroup is gone', async () => {
    root = await mkdtemp(join(tmpdir(), 'container-watch-'));
    const watched = containerMemoryWatch({ cgroupParent: '/llmspell-fleet-k1', memoryMb: 128, memoryWarnPercent: 80 }, root)!;
    expect(watched.limits).toEqual({ memory_mb: 128, memory_warn_percent: 80 });
    expect(await watched.cgroup!.read('memoryUsage')).toBeUndefined();
    await mkdir(join(root, 'llmspell-fleet-k1'));
    await writeFile(join(root, 'llmspell-fleet-k1', 'memory.usage_in_bytes'), `${100 * MB}\n`);
    expect(await watched.cgroup!.read('memoryUsage')).toBe(100 * MB);
    expect(await watched.cgroup!.read('pidsMaxHits')).toBeUndefined();
    expect(await watched.cpuSecondsUsed()).toBeUndefined();
  });

  it('watchLimits warns once the container passes the threshold, with the words a process backend gets', async () => {
    root = await mkdtemp(join(tmpdir(), 'container-watch-'));
    const dir = join(root, 'llmspell-fleet-k2');
    await mkdir(dir);
    await writeFile(join(dir, 'memory.usage_in_bytes'), `${60 * MB}\n`);
    const watched = containerMemoryWatch({ cgroupParent: '/llmspell-fleet-k2', memoryMb: 128 }, root)!;
    const warnings: string[] = [];
    let readings = 0;
    const counted = { ...watched, cgroup: { read: (name: Parameters<NonNullable<typeof watched.cgroup>['read']>[0]) => { readings++; return watched.cgroup!.read(name); } } };
    const warned = new Promise<string>((resolve) => {
      const stop = watchLimits(counted, {
        onMemoryWarning: (text) => {
          warnings.push(text);
          stop();
          resolve(text);
        },
        onPidsLimit: () => undefined,
        onCpuTimeUsedUp: () => undefined,
      }, 5);
    });
    // Below 90 % it stays quiet; the test raises the usage only after a reading has seen the low value.
    while (readings < 2) await new Promise((r) => setImmediate(r));
    expect(warnings).toEqual([]);
    await writeFile(join(dir, 'memory.usage_in_bytes'), `${120 * MB}\n`);
    expect(await warned).toBe('this backend uses 120 MB of its 128 MB memory limit; at the limit it is killed and its state is lost. Save your work or interrupt the cell.');
  });
});
