/**
 * A backend's cgroup on disk: find which cgroup version this host lets us write, make the
 * backend's cgroup with its limits, read its counters, find it again after a manager restart,
 * and remove it (killing whatever is left inside) when the backend ends. Layout and values
 * come from cgroup-layout.ts.
 */
import { access, constants, mkdir, readFile, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describeError } from '../../shared/errors.js';
import type { BackendLimits } from '../types.js';
import {
  COUNTERS,
  V1_CONTROLLERS,
  V2_CONTROLLERS,
  backendCgroupPath,
  cgroupParent,
  cgroupSettings,
  parseCgroupMounts,
  parseProcCgroup,
  readCounter,
  type CgroupVersion,
  type CounterName,
  type V1Controller,
} from './cgroup-layout.js';

/** Where backends' cgroups go on this host, once it is known that we can write there. */
export interface CgroupHost {
  version: CgroupVersion;
  /** Directory of the parent per controller ('unified' for v2), created already. */
  parents: Partial<Record<V1Controller | 'unified', string>>;
  /** v1: swap is accounted (memory.memsw.* exists). */
  memsw: boolean;
  /** For the log and doctor: "cgroup v1 under /sys/fs/cgroup/memory/x/llmspell-fleet, ...". */
  where: string;
}

export type CgroupProbe = { ok: true; host: CgroupHost } | { ok: false; why: string };

type Env = Record<string, string | undefined>;

/**
 * Which cgroups this manager can write: v2 when /sys/fs/cgroup (or another cgroup2 mount)
 * offers memory, cpu and pids, else v1 when those four hierarchies are mounted. The parent is
 * made below the manager's own cgroup, so backends stay inside whatever limits the manager has.
 */
export async function probeCgroups(env: Env = process.env, options: { create?: boolean } = {}): Promise<CgroupProbe> {
  const create = options.create ?? true;
  let parent: string;
  try {
    parent = cgroupParent(env);
  } catch (error) {
    return { ok: false, why: describeError(error) };
  }
  const [mountsText, ownText] = await Promise.all([readFile('/proc/self/mounts', 'utf8').catch(() => ''), readFile('/proc/self/cgroup', 'utf8').catch(() => '')]);
  const mounts = parseCgroupMounts(mountsText);
  const own = parseProcCgroup(ownText);
  const problems: string[] = [];
  for (const mount of mounts.v2) {
    const controllers = (await readFile(join(mount, 'cgroup.controllers'), 'utf8').catch(() => '')).split(/\s+/);
    const missing = V2_CONTROLLERS.filter((c) => !controllers.includes(c));
    if (missing.length > 0) {
      problems.push(`the cgroup2 mount ${mount} has no ${missing.join(', ')} controller`);
      continue;
    }
    const result = await makeV2Parent(mount, own.v2 ?? '/', parent, create);
    if (result.ok) return result;
    problems.push(result.why);
  }
  const missing = V1_CONTROLLERS.filter((c) => mounts.v1[c] === undefined);
  if (missing.length > 0) {
    problems.push(missing.length === V1_CONTROLLERS.length ? 'no cgroup v1 hierarchy is mounted' : `no cgroup v1 ${missing.join(', ')} hierarchy is mounted`);
    return { ok: false, why: problems.join('; ') };
  }
  const parents: CgroupHost['parents'] = {};
  for (const c of V1_CONTROLLERS) {
    const dir = join(mounts.v1[c]!, backendCgroupPath(own.v1[c] ?? '/', parent, '').replace(/\/$/, ''));
    try {
      if (create) {
        await mkdir(dir, { recursive: true });
        await writable(join(dir, 'cgroup.procs'));
      } else {
        await writable(await nearestExisting(dir));
      }
    } catch (error) {
      problems.push(`cannot write cgroup ${dir} (${describeError(error)})`);
      return { ok: false, why: problems.join('; ') };
    }
    parents[c] = dir;
  }
  const memsw = create && (await stat(join(parents.memory!, 'memory.memsw.limit_in_bytes')).then(() => true, () => false));
  return { ok: true, host: { version: 'v1', parents, memsw, where: `cgroup v1 under ${parents.memory} (and the cpu, cpuacct, pids hierarchies)` } };
}

async function makeV2Parent(mount: string, own: string, parent: string, create: boolean): Promise<CgroupProbe> {
  // Controllers must be enabled in every ancestor's subtree_control, starting at our own cgroup.
  const ownDir = join(mount, own);
  const dir = join(mount, backendCgroupPath(own, parent, '').replace(/\/$/, ''));
  if (!create) {
    try {
      await writable(join(ownDir, 'cgroup.subtree_control'));
    } catch (error) {
      return { ok: false, why: `cannot delegate controllers below ${ownDir} (${describeError(error)})` };
    }
    return { ok: true, host: { version: 'v2', parents: { unified: dir }, memsw: false, where: `cgroup v2 under ${dir}` } };
  }
  try {
    await mkdir(dir, { recursive: true });
    const enable = V2_CONTROLLERS.map((c) => `+${c}`).join(' ');
    for (let d = ownDir; ; ) {
      await writeFile(join(d, 'cgroup.subtree_control'), enable);
      if (d === dir) break;
      d = join(d, dir.slice(d.length + 1).split('/')[0]!);
    }
  } catch (error) {
    return { ok: false, why: `cannot enable ${V2_CONTROLLERS.join(', ')} below ${ownDir} (${describeError(error)}; a cgroup that holds processes cannot delegate them)` };
  }
  return { ok: true, host: { version: 'v2', parents: { unified: dir }, memsw: false, where: `cgroup v2 under ${dir}` } };
}

async function writable(path: string): Promise<void> {
  await access(path, constants.W_OK);
}

/** The directory itself if it exists, else its closest existing ancestor (where mkdir would happen). */
async function nearestExisting(dir: string): Promise<string> {
  for (let d = dir; ; d = join(d, '..')) {
    if (await stat(d).then(() => true, () => false)) return d;
    if (d === '/') return d;
  }
}

/** One backend's cgroup: a directory per hierarchy (one in v2). */
export class BackendCgroup {
  private constructor(
    readonly host: CgroupHost,
    readonly kernelId: string,
    readonly dirs: Partial<Record<V1Controller | 'unified', string>>,
  ) {}

  /** Makes the cgroup and writes the limits; on failure nothing is left behind. */
  static async create(host: CgroupHost, kernelId: string, limits: BackendLimits): Promise<BackendCgroup> {
    const cgroup = new BackendCgroup(host, kernelId, dirsOf(host, kernelId));
    try {
      // Recursive: the parent is made again if someone removed it since the probe.
      for (const dir of Object.values(cgroup.dirs)) await mkdir(dir, { recursive: true });
      for (const s of cgroupSettings(host.version, limits, { memsw: host.memsw })) {
        await writeFile(join(cgroup.dirs[s.controller]!, s.file), s.value);
      }
    } catch (error) {
      await cgroup.remove().catch(() => undefined);
      throw error;
    }
    return cgroup;
  }

  /** The backend's cgroup after a manager restart, if it is still there and holds `pid`. */
  static async find(host: CgroupHost, kernelId: string, pid: number): Promise<BackendCgroup | undefined> {
    const cgroup = new BackendCgroup(host, kernelId, dirsOf(host, kernelId));
    const procs = await cgroup.processes().catch(() => undefined);
    return procs?.includes(pid) ? cgroup : undefined;
  }

  /** A backend's cgroup by kernel id alone, whatever it holds: for removing what a dead backend left. */
  static at(host: CgroupHost, kernelId: string): BackendCgroup {
    return new BackendCgroup(host, kernelId, dirsOf(host, kernelId));
  }

  /** The files the join wrapper writes its pid to (one per hierarchy). */
  get procsFiles(): string[] {
    return Object.values(this.dirs).map((d) => join(d, 'cgroup.procs'));
  }

  /** A counter (cgroup-layout's COUNTERS); undefined when the file is missing or says nothing. */
  async read(name: CounterName): Promise<number | undefined> {
    const [controller, file, key] = COUNTERS[this.host.version][name];
    const dir = this.dirs[controller];
    if (dir === undefined) return undefined;
    try {
      return readCounter(await readFile(join(dir, file), 'utf8'), key);
    } catch {
      return undefined;
    }
  }

  /** Pids in the cgroup (of the memory hierarchy in v1: every hierarchy holds the same ones). */
  async processes(): Promise<number[]> {
    const dir = this.dirs.memory ?? this.dirs.unified!;
    const text = await readFile(join(dir, 'cgroup.procs'), 'utf8');
    return text.split('\n').filter((l) => l.trim() !== '').map(Number);
  }

  /**
   * Kill whatever is still inside (a child that left the backend's process group), then remove
   * the directories. Retries while the kernel lets the killed processes go; idempotent.
   */
  async remove(): Promise<void> {
    const dirs = Object.values(this.dirs);
    for (let attempt = 0; ; attempt++) {
      const left: string[] = [];
      for (const dir of dirs) {
        for (const pid of await pidsIn(dir)) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        try {
          await rmdir(dir);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code !== 'ENOENT') left.push(`${dir} (${code ?? describeError(error)})`);
        }
      }
      if (left.length === 0) return;
      if (attempt >= 40) throw new Error(`cannot remove cgroup ${left.join(', ')}`);
      await sleep(50);
    }
  }
}

function dirsOf(host: CgroupHost, kernelId: string): BackendCgroup['dirs'] {
  const dirs: BackendCgroup['dirs'] = {};
  for (const [controller, parent] of Object.entries(host.parents)) dirs[controller as V1Controller] = join(parent, kernelId);
  return dirs;
}

async function pidsIn(dir: string): Promise<number[]> {
  try {
    return (await readFile(join(dir, 'cgroup.procs'), 'utf8')).split('\n').filter((l) => l.trim() !== '').map(Number);
  } catch {
    return [];
  }
}
