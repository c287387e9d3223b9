/**
 * Container backends (issue #10), the pure half: the `podman run` / `docker run` command for a
 * launch plan, the names and labels that tie a container to its fleet and kernel, and how a
 * container's end is worded. No I/O here; engine.ts runs the engine.
 */
import type { BackendLimits } from '../types.js';

export type ContainerEngine = 'podman' | 'docker';

/** Labels every fleet container carries, so that cleanup finds them and touches nothing else. */
export const LABEL_KERNEL_ID = 'io.llmspell-fleet.kernel-id';
export const LABEL_HOME = 'io.llmspell-fleet.home';

export interface ContainerRunSpec {
  engine: ContainerEngine;
  image: string;
  name: string;
  kernelId: string;
  /** The fleet home: containers of another fleet (another user, a test's temporary home) are not ours. */
  home: string;
  /** The command inside the image. */
  argv: readonly string[];
  /** Environment names passed in; their values come from the engine's own environment, never argv. */
  envNames: readonly string[];
  /** Host files mounted read-only at the same path, so argv's placeholders need no translation. */
  readOnlyFiles: readonly string[];
  /** Host directories mounted read-write at the same path (the kernel's own copy of its connection file). */
  writableDirs?: readonly string[];
  limits: BackendLimits;
  /** A cgroup of its own above the container (cgroupfs hosts), where its peak memory stays readable after it ends. */
  cgroupParent?: string;
}

/** `llmspell-fleet-<kernel id>`: a kernel id is already a safe name, and unique per fleet. */
export function containerName(kernelId: string): string {
  return `llmspell-fleet-${kernelId}`;
}

/** Pure: the engine flags for the backend's limits. cpu_seconds has no engine flag; the plan refuses it. */
export function limitFlags(limits: BackendLimits): string[] {
  const flags: string[] = [];
  if (limits.memory_mb !== undefined) {
    const bytes = `${Math.round(limits.memory_mb * 1024 * 1024)}b`;
    // memory-swap equal to memory: no swap on top, so the limit ends the container instead of slowing it.
    flags.push('--memory', bytes, '--memory-swap', bytes);
  }
  if (limits.cpus !== undefined) flags.push('--cpus', String(limits.cpus));
  if (limits.pids !== undefined) flags.push('--pids-limit', String(limits.pids));
  return flags;
}

/**
 * Pure: the whole command line. The container runs in the foreground of the engine's client
 * process, which the manager spawns like a kernel: its output goes to the backend's log, its exit
 * is the container's, and signals sent to it are passed on (sig-proxy). Host network, because the
 * connection file the router writes binds the kernel to 127.0.0.1: nothing off the host reaches it.
 */
export function containerRunArgv(spec: ContainerRunSpec): string[] {
  const argv = [spec.engine, 'run', '--name', spec.name, '--label', `${LABEL_KERNEL_ID}=${spec.kernelId}`, '--label', `${LABEL_HOME}=${spec.home}`];
  // --pull never: a missing image fails at once, naming it, instead of trying registries first.
  argv.push('--pull', 'never', '--network', 'host', '--init', '--sig-proxy=true');
  if (spec.cgroupParent !== undefined) argv.push('--cgroup-parent', spec.cgroupParent);
  argv.push(...limitFlags(spec.limits));
  for (const file of spec.readOnlyFiles) argv.push('--volume', `${file}:${file}:ro`);
  for (const dir of spec.writableDirs ?? []) argv.push('--volume', `${dir}:${dir}`);
  for (const name of spec.envNames) argv.push('--env', name);
  argv.push('--', spec.image, ...spec.argv);
  return argv;
}

/** What the engine (or the cgroup above the container) says about a container that has ended. */
export interface ContainerEnd {
  /** The engine's own OOM flag (podman/docker inspect State.OOMKilled). */
  oomKilled: boolean;
  exitCode: number | null;
  /** Peak memory of the container's cgroup parent (the container and the engine's monitor), in bytes. */
  peakBytes?: number;
}

/**
 * Pure: whether the memory limit ended the container. The engine's flag when it has one; where
 * it cannot tell (conmon on cgroup v1 hybrid hosts never sets it), a SIGKILL (exit 137) while the
 * cgroup above the container peaked at the limit or above is the kernel's OOM killer (the engine's
 * monitor in that cgroup uses a few MB, so a kill from outside just below the limit reads the same).
 */
export function endedByMemoryLimit(end: ContainerEnd, limits: BackendLimits): boolean {
  if (limits.memory_mb === undefined) return false;
  if (end.oomKilled) return true;
  const limit = limits.memory_mb * 1024 * 1024;
  return end.exitCode === 137 && end.peakBytes !== undefined && end.peakBytes >= limit;
}

/** Pure: the engine's own output for a container that is not there, which is not an error to cleanup. */
export function isNoSuchContainer(stderr: string): boolean {
  return /no such container|no container with name or id/i.test(stderr);
}
