/**
 * Container backends, the I/O half: finding podman or docker, and asking it about, signalling
 * and removing our containers. Every call is an argv array (execFile, no shell).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FleetError } from '../../shared/errors.js';
import { findExecutable } from '../../shared/which.js';
import { LABEL_HOME, containerName, isNoSuchContainer, type ContainerEnd, type ContainerEngine } from './container-argv.js';

export type EngineChoice = 'auto' | ContainerEngine;

export interface EngineResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the engine with `args`; never rejects (a missing engine is code null with the error in stderr). */
export function runEngine(engine: ContainerEngine, args: readonly string[], timeoutMs = 30_000): Promise<EngineResult> {
  return new Promise((resolve) => {
    execFile(engine, [...args], { timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null;
      resolve({ code, stdout: String(stdout), stderr: error !== null && stderr === '' ? error.message : String(stderr) });
    });
  });
}

/** The engine a choice means here: "auto" is podman when it is installed, else docker. Undefined when none is. */
export async function findEngine(choice: EngineChoice, pathValue: string | undefined): Promise<{ engine: ContainerEngine; path: string } | undefined> {
  const order: ContainerEngine[] = choice === 'auto' ? ['podman', 'docker'] : [choice];
  for (const engine of order) {
    const path = await findExecutable(engine, pathValue);
    if (path !== undefined) return { engine, path };
  }
  return undefined;
}

export async function requireEngine(choice: EngineChoice, pathValue: string | undefined, configKey: string): Promise<ContainerEngine> {
  const found = await findEngine(choice, pathValue);
  if (found !== undefined) return found.engine;
  const wanted = choice === 'auto' ? 'podman or docker' : choice;
  throw new FleetError('SPAWN_FAILED', `no container engine: ${wanted} was not found on PATH; install it, or set ${configKey} to the one you have`, {
    file: wanted,
    configKey,
  });
}

/** How a container ended, from the engine and, where we gave it one, the cgroup above it. */
export async function inspectEnd(engine: ContainerEngine, name: string, cgroupParent: string | undefined): Promise<ContainerEnd | undefined> {
  const result = await runEngine(engine, ['inspect', '--format', '{{.State.OOMKilled}} {{.State.ExitCode}}', name]);
  if (result.code !== 0) return undefined;
  const [oom, code] = result.stdout.trim().split(/\s+/);
  const exitCode = Number(code);
  const end: ContainerEnd = { oomKilled: oom === 'true', exitCode: Number.isInteger(exitCode) ? exitCode : null };
  const peak = cgroupParent !== undefined ? await peakMemory(cgroupParent) : undefined;
  return peak !== undefined ? { ...end, peakBytes: peak } : end;
}

/** Removes the container (and its cgroup parent); true when it is gone, also when it was never there. */
export async function removeContainer(engine: ContainerEngine, name: string, cgroupParent?: string): Promise<boolean> {
  const result = await runEngine(engine, ['rm', '--force', name]);
  if (cgroupParent !== undefined) await removeCgroupParent(cgroupParent);
  return result.code === 0 || isNoSuchContainer(result.stderr);
}

/** Signals the container's main process through the engine (the only way to SIGKILL it). */
export async function killContainer(engine: ContainerEngine, name: string, signal: NodeJS.Signals): Promise<boolean> {
  const result = await runEngine(engine, ['kill', '--signal', signal, name]);
  return result.code === 0;
}

/** Names of this fleet's containers (running or not), from the home label. */
export async function fleetContainers(engine: ContainerEngine, home: string): Promise<string[]> {
  const result = await runEngine(engine, ['ps', '--all', '--filter', `label=${LABEL_HOME}=${home}`, '--format', '{{.Names}}']);
  if (result.code !== 0) return [];
  return result.stdout.split('\n').map((s) => s.trim()).filter((s) => s.length > 0);
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * A cgroup parent for the container, where the engine can be given one we can read later: root
 * with podman's cgroupfs manager on a cgroup v1 memory hierarchy. Undefined elsewhere (the engine's
 * OOMKilled flag works there).
 */
export function cgroupParentFor(engine: ContainerEngine, kernelId: string): string | undefined {
  if (engine !== 'podman' || process.getuid?.() !== 0) return undefined;
  if (!existsSync(join(CGROUP_ROOT, 'memory', 'memory.limit_in_bytes'))) return undefined;
  return `/${containerName(kernelId)}`;
}

/**
 * Peak memory of the cgroup parent: the container's plus the engine monitor's (conmon) beside it.
 * conmon's own peak is not subtracted: it includes the engine's cleanup run after the container
 * ended, so it would push a real OOM below the limit.
 */
async function peakMemory(parent: string): Promise<number | undefined> {
  const read = async (dir: string): Promise<number | undefined> => {
    try {
      const n = Number((await readFile(join(dir, 'memory.max_usage_in_bytes'), 'utf8')).trim());
      return Number.isFinite(n) ? n : undefined;
    } catch {
      return undefined;
    }
  };
  return read(join(CGROUP_ROOT, 'memory', parent));
}

/** rmdir the parent (and the empty groups below it) in every hierarchy the engine made it in. */
async function removeCgroupParent(parent: string): Promise<void> {
  let hierarchies: string[];
  try {
    hierarchies = await readdir(CGROUP_ROOT);
  } catch {
    return;
  }
  await Promise.all(
    hierarchies.map(async (h) => {
      const dir = join(CGROUP_ROOT, h, parent);
      try {
        const children = (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory());
        await Promise.all(children.map((c) => rmdir(join(dir, c.name)).catch(() => undefined)));
        await rmdir(dir);
      } catch {
        // not there, or still in use: nothing we can do now
      }
    }),
  );
}

/**
 * Removes this fleet's containers that no backend owns (`keep`: the names of the live ones), with
 * every engine installed here. Returns "engine:name" for each one removed.
 */
export async function sweepContainers(home: string, keep: ReadonlySet<string>, pathValue: string | undefined): Promise<string[]> {
  const removed: string[] = [];
  for (const engine of ['podman', 'docker'] as const) {
    if ((await findEngine(engine, pathValue)) === undefined) continue;
    for (const name of await fleetContainers(engine, home)) {
      if (keep.has(name)) continue;
      if (await removeContainer(engine, name, cgroupParentFor(engine, name.replace(/^llmspell-fleet-/, '')))) removed.push(`${engine}:${name}`);
    }
  }
  return removed;
}
