import { mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute } from 'node:path';
import type { BackendExit } from '../shared/backend.js';
import { isFleetError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/log.js';
import { DEFAULT_STOP_LADDER, climbStopLadder, type StopLadder } from '../shared/process.js';
import { newKey, parseConnectionInfo, writeConnectionFile, type ConnectionInfo } from '../wire/connection-file.js';
import { curveFields, newCurveKeyPair } from '../wire/curve.js';
import { allocatePorts as defaultAllocatePorts, releasePorts } from './ports.js';
import { readLogTail, spawnBackend, type ChildExit, type SpawnedChild } from './spawn.js';
import { launcherFor, settleBackend, signalBackend, type LaunchCommand, type LauncherRefs } from './launchers/launcher.js';
import { tieStandIn } from './launchers/kube/lifecycle.js';
import type { ContainerRef, KubeRef, LaunchPlan } from './types.js';
import { awaitKernelConnection, describeBackend, TAIL_LINES, withTail } from './backend-startup.js';

/** Why a backend is gone (BackendExit.reason): machine-readable, the numbers are in exitCode/signal. */
export type ExitReason = 'stopped' | 'startup-failed' | 'exited' | 'signalled';

export interface LaunchOptions {
  logger?: Logger;
  /** Injected in tests; the default serialises allocations process-wide. */
  allocatePorts?: (ip: string, count: number) => Promise<number[]>;
}

export type StopOptions = Partial<StopLadder>;

type Termination = { requested?: 'stopped' | 'startup-failed' };

const STARTUP_FAILURE_GRACE_MS = 500;

/**
 * One backend kernel process, owned from spawn to exit. Single-use: a restart is a new instance.
 *
 * Readiness here means "the connection info is known and the process is running"; whether the
 * kernel answers on its sockets is the router's business.
 */
export class BackendProcess {
  readonly pid: number;
  readonly exited: Promise<BackendExit>;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly plan: LaunchPlan,
    readonly connection: ConnectionInfo,
    private readonly child: SpawnedChild,
    private readonly termination: Termination,
    exited: Promise<BackendExit>,
    private readonly log: Logger,
    /** Set for a container backend: what the registry keeps to reach it after a manager restart. */
    readonly container: ContainerRef | undefined,
    /** Set for a pod backend (its pid is the local stand-in's): what the registry keeps to reach the pod. */
    readonly kube: KubeRef | undefined,
  ) {
    this.pid = child.pid;
    this.exited = exited;
  }

  static async launch(plan: LaunchPlan, options: LaunchOptions = {}): Promise<BackendProcess> {
    validatePlan(plan);
    const { requirement } = plan;
    const log = (options.logger ?? silentLogger()).child({
      component: 'backend',
      kernelId: plan.kernelId,
      runtime: requirement.runtime,
      provider: requirement.provider,
    });
    await mkdir(dirname(plan.connectionFile), { recursive: true, mode: 0o700 });

    let written: ConnectionInfo | undefined;
    if (plan.connection === 'router-writes') {
      // Before the ports: a zeromq without CURVE fails here with nothing to give back.
      const curve = plan.curve === true ? curveFields(newCurveKeyPair()) : {};
      const ports = await (options.allocatePorts ?? defaultAllocatePorts)('127.0.0.1', 5);
      written = { ...routerConnectionInfo(ports), ...curve };
      await writeConnectionFile(plan.connectionFile, written);
      if (plan.kernelConnectionFile !== undefined) {
        await mkdir(dirname(plan.kernelConnectionFile), { recursive: true, mode: 0o700 });
        await writeConnectionFile(plan.kernelConnectionFile, written);
      }
    } else {
      // A file left by an earlier run would look ready before our kernel has bound anything.
      await rm(plan.connectionFile, { force: true });
    }

    let child: SpawnedChild;
    let command: LaunchCommand;
    let podStarted: KubeRef | undefined;
    try {
      command = await launcherFor(plan).command(plan, backendEnv(plan.env));
      podStarted = command.kube;
      child = await spawnBackend({
        argv: command.argv,
        env: command.env,
        // A container starts in its image's directory; the host's is not inside it (nor a pod's).
        ...(command.container === undefined && command.kube === undefined ? { cwd: plan.cwd } : {}),
        logFile: plan.logFile,
        configKey: command.configKey,
        banner: `--- llmspell-fleet ${new Date().toISOString()}: starting ${describeBackend(plan)} ---`,
      });
    } catch (error) {
      if (written !== undefined) releasePorts(portsOf(written));
      await removeConnectionFile(plan.connectionFile, written?.key);
      await removeKernelCopy(plan);
      // The pod runs but its stand-in could not start: delete it.
      if (podStarted !== undefined) await settleBackend({ kube: podStarted }, { exitCode: null, signal: null });
      throw error;
    }
    const { container, kube } = command;
    const refs: LauncherRefs = { container, kube };
    if (kube !== undefined) {
      // The pod's address, in the file too: a manager that adopts this backend reads it from there.
      if (command.connection !== undefined && command.connection.ip !== written?.ip) await writeConnectionFile(plan.connectionFile, command.connection);
      void tieStandIn(kube, () => child.signalGroup('SIGTERM')).catch((error: unknown) => log.warn({ err: String(error) }, 'cannot watch the backend\'s pod'));
    }
    log.info({ backendPid: child.pid, argv: redactArgv(command.argv, secretValues(plan)), connection: plan.connection, logFile: plan.logFile }, 'backend spawned');

    const termination: Termination = {};
    const exited = child.exit.then(async (exit) => {
      if (written !== undefined) releasePorts(portsOf(written));
      const settled = await settleBackend(refs, exit);
      const stderrTail = await readLogTail(plan.logFile, { fromOffset: child.logOffset, lines: TAIL_LINES });
      const result: BackendExit = { ...exit, ...settled, reason: settled.reason ?? exitReason(termination, exit), stderrTail };
      log.info({ backendPid: child.pid, exitCode: exit.exitCode, signal: exit.signal, reason: result.reason }, 'backend exited');
      return result;
    });

    let connection: ConnectionInfo;
    try {
      connection = command.connection ?? written ?? (await awaitKernelConnection(plan, child));
    } catch (error) {
      termination.requested = 'startup-failed';
      await terminate(child, refs, { ...DEFAULT_STOP_LADDER, graceMs: STARTUP_FAILURE_GRACE_MS }, log);
      await removeConnectionFile(plan.connectionFile);
      await removeKernelCopy(plan);
      log.warn({ backendPid: child.pid, code: isFleetError(error) ? error.code : undefined }, 'backend failed to start');
      throw isFleetError(error) && (error.code === 'BACKEND_EXITED' || error.code === 'READY_TIMEOUT') ? await withTail(error, plan, child) : error;
    }
    log.info({ backendPid: child.pid, ports: portsOf(connection) }, 'backend connection known');
    return new BackendProcess(plan, connection, child, termination, exited, log, container, kube);
  }

  get alive(): boolean {
    return this.child.alive;
  }

  /** SIGINT to the backend's process group, as Jupyter does for interrupt_mode "signal". */
  interrupt(): void {
    const sent = signalBackend({ container: this.container, kube: this.kube }, 'SIGINT', (signal) => this.child.signalGroup(signal));
    this.log.debug({ backendPid: this.pid, sent }, 'interrupt');
  }

  /** Idempotent: every call returns the same promise. Resolves once the process has exited. */
  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.stopOnce(options);
    return this.stopping;
  }

  private async stopOnce(options: StopOptions): Promise<void> {
    if (this.child.alive) this.termination.requested ??= 'stopped';
    const { graceMs = DEFAULT_STOP_LADDER.graceMs, killMs = DEFAULT_STOP_LADDER.killMs } = options;
    const gone = await terminate(this.child, { container: this.container, kube: this.kube }, { graceMs, killMs }, this.log);
    if (gone) await this.exited;
    await removeConnectionFile(this.plan.connectionFile, this.connection.key);
    await removeKernelCopy(this.plan);
  }
}

/** Pure: the connection info we write for a kernel that reads its file (ipykernel, tslab). */
export function routerConnectionInfo(ports: readonly number[], key: string = newKey()): ConnectionInfo {
  const [shell, iopub, stdin, control, hb] = ports;
  if (hb === undefined || shell === undefined || iopub === undefined || stdin === undefined || control === undefined) {
    throw new TypeError(`routerConnectionInfo: need 5 ports, got ${ports.length}`);
  }
  return {
    transport: 'tcp',
    ip: '127.0.0.1',
    shell_port: shell,
    iopub_port: iopub,
    stdin_port: stdin,
    control_port: control,
    hb_port: hb,
    key,
    signature_scheme: 'hmac-sha256',
  };
}

/** Pure: our own termination request wins over what the exit status suggests. */
export function exitReason(termination: Termination, exit: ChildExit): ExitReason {
  if (termination.requested !== undefined) return termination.requested;
  return exit.signal !== null ? 'signalled' : 'exited';
}

/** Pure: argv for logging, with any element that contains a secret value masked. */
export function redactArgv(argv: readonly string[], secrets: readonly string[]): string[] {
  const real = secrets.filter((s) => s.length > 0);
  return argv.map((arg) => (real.some((s) => arg.includes(s)) ? '[redacted]' : arg));
}

function backendEnv(planEnv: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  // JPY_PARENT_PID lets ipykernel notice when we die and exit instead of lingering; a plan may
  // clear it (the manager does: its backends must outlive it so that the next manager adopts them).
  return { ...env, JPY_PARENT_PID: String(process.pid), ...planEnv };
}

function secretValues(plan: LaunchPlan): string[] {
  return plan.secretEnvKeys.map((k) => plan.env[k]).filter((v): v is string => v !== undefined);
}

function portsOf(info: ConnectionInfo): number[] {
  return [info.shell_port, info.iopub_port, info.stdin_port, info.control_port, info.hb_port];
}

function validatePlan(plan: LaunchPlan): void {
  const bad = (field: string, value: unknown, want: string): never => {
    throw new TypeError(`LaunchPlan.${field} must be ${want}, got ${JSON.stringify(value)} (${typeof value})`);
  };
  if (!Array.isArray(plan.argv) || plan.argv.length === 0 || typeof plan.argv[0] !== 'string' || plan.argv[0] === '') bad('argv', plan.argv, 'a non-empty array of strings');
  if (typeof plan.connectionFile !== 'string' || !isAbsolute(plan.connectionFile)) bad('connectionFile', plan.connectionFile, 'an absolute path');
  if (typeof plan.logFile !== 'string' || !isAbsolute(plan.logFile)) bad('logFile', plan.logFile, 'an absolute path');
  if (!Number.isFinite(plan.startupTimeoutMs) || plan.startupTimeoutMs <= 0) bad('startupTimeoutMs', plan.startupTimeoutMs, 'a positive number');
  if (plan.connection !== 'router-writes' && plan.connection !== 'kernel-writes') bad('connection', plan.connection, '"router-writes" or "kernel-writes"');
}

/** The stop ladder on the child's process group; signalGroup refuses once the child is reaped. */
function terminate(child: SpawnedChild, refs: LauncherRefs, ladder: StopLadder, log: Logger): Promise<boolean> {
  return climbStopLadder(
    { alive: () => child.alive, signal: (signal) => signalBackend(refs, signal, (s) => child.signalGroup(s)), goneWithin: (ms) => exitsWithin(child, ms) },
    ladder,
    { logger: log, what: 'backend', fields: { backendPid: child.pid } },
  );
}

async function exitsWithin(child: SpawnedChild, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([child.exit.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The kernel's own copy and its directory (plan.kernelConnectionFile): made for this backend alone. */
async function removeKernelCopy(plan: LaunchPlan): Promise<void> {
  if (plan.kernelConnectionFile !== undefined) await rm(dirname(plan.kernelConnectionFile), { recursive: true, force: true });
}

/**
 * Deletes the connection file only if it is ours: with `key`, only when the file still holds that
 * key (another process may have reused the path); without, whatever our kernel left there.
 */
async function removeConnectionFile(path: string, key?: string): Promise<void> {
  if (key !== undefined) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      return;
    }
    try {
      if (parseConnectionInfo(text, path).key !== key) return;
    } catch {
      return;
    }
  }
  await rm(path, { force: true });
}
