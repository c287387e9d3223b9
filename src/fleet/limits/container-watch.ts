/**
 * The memory warning for a container backend (issue #10 item 3). The engine enforces the
 * container's limits; the cgroup the manager gives the container as its parent
 * (launchers/engine.ts cgroupParentFor: root podman on cgroup v1) is where its memory can be
 * read from outside, the engine's monitor included (a few MB, so the warning comes a little
 * early, never late). Only memory: a container's pids and CPU time are the engine's.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerRef } from '../types.js';
import type { WatchedCgroup } from './watch.js';

const V1_MEMORY_ROOT = '/sys/fs/cgroup/memory';

/** Undefined when there is nothing to watch: no memory_mb, or no cgroup of ours above the container. */
export function containerMemoryWatch(ref: Pick<ContainerRef, 'cgroupParent' | 'memoryMb' | 'memoryWarnPercent'>, memoryRoot = V1_MEMORY_ROOT): WatchedCgroup | undefined {
  if (ref.cgroupParent === undefined || ref.memoryMb === undefined) return undefined;
  const usageFile = join(memoryRoot, ref.cgroupParent, 'memory.usage_in_bytes');
  return {
    limits: { memory_mb: ref.memoryMb, ...(ref.memoryWarnPercent !== undefined ? { memory_warn_percent: ref.memoryWarnPercent } : {}) },
    cgroup: {
      read: async (name) => {
        if (name !== 'memoryUsage') return undefined;
        // Gone with the container: nothing to read, nothing to warn about.
        const text = await readFile(usageFile, 'utf8').catch(() => undefined);
        const bytes = text === undefined ? NaN : Number(text.trim());
        return Number.isFinite(bytes) ? bytes : undefined;
      },
    },
    cpuSecondsUsed: async () => undefined,
  };
}
