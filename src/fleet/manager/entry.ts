/**
 * One backend as the manager holds it: either spawned by this manager (a BackendProcess with a
 * child handle) or adopted from the registry after a manager restart (only a pid, watched by
 * polling /proc and signalled by process group after re-checking its start time).
 */
import { readFile, rm } from 'node:fs/promises';
import type { BackendExit } from '../../shared/backend.js';
import { silentLogger, type Logger } from '../../shared/log.js';
import { climbStopLadder, pollUntil, type StopLadder } from '../../shared/process.js';
import type { InterruptMode, Requirement } from '../../shared/requirement.js';
import { parseConnectionInfo, type ConnectionInfo } from '../../wire/connection-file.js';
import type { BackendProcess } from '../backend-process.js';
import { settleBackend, signalBackend, type LauncherRefs } from '../launchers/launcher.js';
import type { ContainerRef, KubeRef } from '../types.js';
import type { LimitEnforcement } from '../limits/enforce.js';
import { watchLimits, type LimitWatchEvents } from '../limits/watch.js';
import { containerMemoryWatch } from '../limits/container-watch.js';
import type { BackendLimits } from '../types.js';
import { isSameProcess, killGroup } from './proc.js';
import type { BackendRecord, BackendState } from './protocol.js';
import { isOwnConnectionFile } from './registry.js';
import { kernelCopyDir } from '../paths.js';

/** A router attachment; `conn` is the manager connection that made it (its lease). */
export interface RouterRef {
  routerId: string;
  pid: number;
  conn?: number;
}

export interface ManagedBackendInit {
  kernelId: string;
  pid: number;
  procStart: number | undefined;
  requirement: Requirement;
  interruptMode: InterruptMode;
  connectionFile: string;
  logFile: string;
  startedAt: number;
  connection: ConnectionInfo;
  state: BackendState;
  /** Working directory it was started in, if not the manager's (a restart keeps it). */
  cwd?: string;
  /** Container backends: the engine and container behind the pid (the engine client's). */
  container?: ContainerRef;
  /** Pod backends: the pod and Secret; the pid is the local stand-in's (launchers/kube/launcher.ts). */
  kube?: KubeRef;
  /**
   * Whether its environment carries the provider keys of the request that started it (llmspell
   * behind the adapter does; a kernelspec kernel gets the manager's). Unknown for adopted ones.
   */
  providerKeys?: boolean;
  /** Adopted spares only: what the registry said (see BackendRecord.spare). */
  spare?: 'warming' | 'ready';
  /** Its resource limits, when any are set (kept in the registry for adoption). */
  limits?: BackendLimits;
}

export class ManagedBackend {
  state: BackendState;
  readonly attached = new Map<string, RouterRef>();
  idleSince: number | undefined;
  /** Linger or re-attach-grace timer; at most one at a time. */
  timer: NodeJS.Timeout | undefined;
  /** Set by restart: the routers hear backend-restarted instead of backend-exited. */
  replaced = false;
  /**
   * Set on the backend a restart started: until then (epoch ms) it lingers at least that long
   * once nobody is attached, because the router that asked for the restart is about to be
   * replaced by a new one (jupyter_client restarts the kernel process too) that attaches again.
   */
  reattachUntil: number | undefined;
  /** A spare of the pool (pool.ts); undefined once handed out, and for every other backend. */
  spare: 'warming' | 'ready' | undefined;
  /** Set when the fleet ends it for a reason of its own (culled): its exit says that, not just "stopped". */
  endedBy: Pick<BackendExit, 'reason' | 'cause'> | undefined;
  readonly gone: Promise<BackendExit>;
  #stopping: Promise<void> | undefined;
  #poller: NodeJS.Timeout | undefined;
  #markGone: (gone: BackendExit) => void = () => undefined;
  #unwatch: () => void = () => undefined;

  private constructor(
    readonly init: ManagedBackendInit,
    private readonly home: string,
    private readonly process: BackendProcess | undefined,
    pollMs: number,
    /** Its limits in force (cgroup or prlimit); decides which limit, if any, ended it. */
    readonly enforcement: LimitEnforcement | undefined,
    private readonly log: Logger | undefined,
  ) {
    this.state = init.state;
    this.spare = init.spare;
    if (process !== undefined) {
      this.gone = process.exited.then(async (exit) => {
        // A launcher that knows the cause (a container's engine) has the last word; else the cgroup's counters judge.
        const ended: BackendExit =
          exit.cause !== undefined
            ? { exitCode: exit.exitCode, signal: exit.signal, reason: exit.reason, cause: exit.cause }
            : await this.#judged({ exitCode: exit.exitCode, signal: exit.signal, reason: exit.reason, requested: exit.reason === 'stopped' || exit.reason === 'startup-failed' });
        // Its last lines go with it: a crash's notice shows them (shared/exit.ts crashOutput).
        return exit.stderrTail ? { ...ended, stderrTail: exit.stderrTail } : ended;
      });
    } else {
      this.gone = new Promise((resolve) => (this.#markGone = resolve));
      this.#poller = setInterval(() => this.#poll(), pollMs);
      this.#poller.unref();
    }
    void this.gone.then(() => {
      this.state = 'exited';
      this.#stopPolling();
      this.#unwatch();
    });
  }

  static spawned(process: BackendProcess, init: ManagedBackendInit, home: string, enforcement?: LimitEnforcement, log?: Logger): ManagedBackend {
    return new ManagedBackend(init, home, process, 0, enforcement, log);
  }

  /** A backend this manager did not start: it has no child handle, only a pid to watch. */
  static adopted(init: ManagedBackendInit, home: string, pollMs: number, enforcement?: LimitEnforcement, log?: Logger): ManagedBackend {
    return new ManagedBackend(init, home, undefined, pollMs, enforcement, log);
  }

  /**
   * Watch its cgroup (memory warning, pids notice, cpu_seconds) until it is gone; a container's
   * engine enforces its limits, and its memory is read from the cgroup the manager put above it.
   */
  watchLimits(events: LimitWatchEvents): void {
    const watched = this.enforcement?.cgroup !== undefined ? this.enforcement : this.init.container !== undefined ? containerMemoryWatch(this.init.container) : undefined;
    if (watched === undefined || this.state === 'exited') return;
    this.#unwatch();
    this.#unwatch = watchLimits(watched, events);
  }

  /** How it ended, with the limit that ended it (its cgroup's own counters), the cgroup then removed. */
  async #judged(exit: { exitCode: number | null; signal: string | null; reason: string; requested: boolean }): Promise<BackendExit> {
    const { requested, ...plain } = exit;
    if (this.enforcement === undefined) return plain;
    const verdict = await this.enforcement.finish({ exitCode: exit.exitCode, signal: exit.signal, requested }, this.log ?? silentLogger());
    return verdict === undefined ? plain : { ...plain, reason: verdict.reason, cause: verdict.cause };
  }

  get kernelId(): string {
    return this.init.kernelId;
  }
  get pid(): number {
    return this.init.pid;
  }
  get connection(): ConnectionInfo {
    return this.init.connection;
  }
  get requirement(): Requirement {
    return this.init.requirement;
  }
  get isAdopted(): boolean {
    return this.process === undefined;
  }

  get alive(): boolean {
    return this.state !== 'exited' && isSameProcess(this.pid, this.init.procStart);
  }

  ports(): number[] {
    const c = this.connection;
    return [c.shell_port, c.iopub_port, c.stdin_port, c.control_port, c.hb_port];
  }

  record(): BackendRecord {
    const r: BackendRecord = {
      kernelId: this.kernelId,
      pid: this.pid,
      requirement: { ...this.requirement },
      state: this.state,
      interruptMode: this.init.interruptMode,
      connectionFile: this.init.connectionFile,
      logFile: this.init.logFile,
      startedAt: this.init.startedAt,
      ports: this.ports(),
      ip: this.connection.ip,
      attached: [...this.attached.values()].map((a) => ({ routerId: a.routerId, pid: a.pid })),
    };
    if (this.idleSince !== undefined) r.idleSince = this.idleSince;
    if (this.init.procStart !== undefined) r.procStart = this.init.procStart;
    if (this.init.cwd !== undefined) r.cwd = this.init.cwd;
    if (this.init.container !== undefined) r.container = { ...this.init.container };
    if (this.init.kube !== undefined) r.kube = { ...this.init.kube };
    if (this.spare !== undefined) r.spare = this.spare;
    if (this.init.limits !== undefined) r.limits = { ...this.init.limits };
    if (this.enforcement !== undefined) r.enforcedBy = this.enforcement.mechanism;
    return r;
  }

  /** Idempotent; resolves once the process is gone and its connection file removed. */
  stop(ladder: StopLadder, log: Logger): Promise<void> {
    this.#stopping ??= this.#stopOnce(ladder, log);
    return this.#stopping;
  }

  /** Forget timers without touching the process: the manager is going away, the backend stays. */
  release(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.#stopPolling();
    this.#unwatch();
  }

  async #stopOnce(ladder: StopLadder, log: Logger): Promise<void> {
    if (this.state !== 'exited') this.state = 'stopping';
    if (this.process !== undefined) {
      await this.process.stop(ladder);
      return;
    }
    const gone = await climbStopLadder(
      { signal: (signal) => signalBackend(this.#refs(), signal, (s) => killGroup(this.pid, s, this.init.procStart)), goneWithin: (ms) => pollUntil(() => this.#poll(), ms) },
      ladder,
      { logger: log, what: 'adopted backend', fields: { kernelId: this.kernelId, backendPid: this.pid } },
    );
    if (gone) await this.gone;
  }

  /** Adopted only: true (and `gone` settled, connection file removed) once the pid is not ours any more. */
  #poll(): boolean {
    if (this.state === 'exited') return true;
    if (isSameProcess(this.pid, this.init.procStart)) return false;
    const reason = this.state === 'stopping' ? 'stopped' : 'exited';
    // A container's engine still knows how it ended (a memory limit); the container is removed then.
    void Promise.all([settleBackend(this.#refs(), { exitCode: null, signal: null }), removeConnectionFile(this.home, this.init.connectionFile, this.connection.key).catch(() => false)])
      .then(([settled]) =>
        settled.cause !== undefined
          ? { exitCode: null, signal: null, ...settled, reason: settled.reason ?? reason }
          : this.#judged({ exitCode: null, signal: null, reason, requested: reason === 'stopped' }),
      )
      .then((gone) => this.#markGone(gone), () => this.#markGone({ exitCode: null, signal: null, reason }));
    this.state = 'exited';
    return true;
  }

  #refs(): LauncherRefs {
    return { container: this.init.container, kube: this.init.kube };
  }

  #stopPolling(): void {
    if (this.#poller !== undefined) clearInterval(this.#poller);
    this.#poller = undefined;
  }
}

/**
 * Remove a backend's connection file if it is in our backends dir and still holds that
 * backend's key (a new backend may have been given the same path since).
 */
export async function removeConnectionFile(home: string, path: string, key: string | undefined): Promise<boolean> {
  if (!isOwnConnectionFile(home, path)) return false;
  if (key !== undefined) {
    try {
      if (parseConnectionInfo(await readFile(path, 'utf8'), path).key !== key) return false;
    } catch {
      return false;
    }
  }
  await rm(path, { force: true });
  // A curve container's own copy, if it had one (an adopted backend's plan is not known).
  await rm(kernelCopyDir(path), { recursive: true, force: true });
  return true;
}
