/**
 * Launchers: how a launch plan becomes the host process that stands for a backend for its whole
 * life, and how that backend is signalled and accounted for when it ends. `process` runs argv
 * itself; `container` runs the engine's client in the foreground (its exit is the container's);
 * `kubernetes` starts a pod and runs a local stand-in tied to it (kube/launcher.ts says why).
 * Each is a command, a signal path, a settle step.
 */
import type { BackendExit } from '../../shared/backend.js';
import type { ChildExit } from '../spawn.js';
import type { ConnectionInfo } from '../../wire/connection-file.js';
import type { ContainerRef, KubeRef, LaunchPlan } from '../types.js';
import { containerName, containerRunArgv, endedByMemoryLimit } from './container-argv.js';
import { cgroupParentFor, inspectEnd, killContainer, removeContainer, requireEngine } from './engine.js';
import { launchPod } from './kube/launcher.js';
import { settleKube, signalKube } from './kube/lifecycle.js';

export type LauncherKind = 'process' | 'container' | 'kubernetes';

/** What the registry keeps of a backend's launcher, beside its pid. */
export interface LauncherRefs {
  container?: ContainerRef | undefined;
  kube?: KubeRef | undefined;
}

export interface LaunchCommand {
  argv: string[];
  /** The complete environment of the host process. */
  env: Record<string, string>;
  /** The setting to fix when the program is missing, named in SPAWN_FAILED messages. */
  configKey: string;
  /** Container backends: kept in the registry, so a restarted manager can signal and remove it. */
  container?: ContainerRef;
  /** Pod backends: the pod and Secret, kept in the registry like a container. */
  kube?: KubeRef;
  /** Where the routers connect, when not where the connection file was written (a pod's address). */
  connection?: ConnectionInfo;
}

export interface BackendLauncher {
  readonly kind: LauncherKind;
  command(plan: LaunchPlan, hostEnv: Record<string, string>): Promise<LaunchCommand>;
}

export const processLauncher: BackendLauncher = {
  kind: 'process',
  command: async (plan, hostEnv) => ({ argv: plan.argv, env: hostEnv, configKey: `runtimes.${plan.requirement.runtime}.argv (or its kernelspec)` }),
};

export const containerLauncher: BackendLauncher = {
  kind: 'container',
  async command(plan, hostEnv) {
    const container = plan.container;
    if (container === undefined) throw new TypeError('containerLauncher: the plan has no container part');
    const runtime = plan.requirement.runtime;
    const engine = await requireEngine(container.engine, hostEnv.PATH, `runtimes.${runtime}.container_engine`);
    const name = containerName(plan.kernelId);
    const cgroupParent = container.limits.memory_mb !== undefined ? cgroupParentFor(engine, plan.kernelId) : undefined;
    const argv = containerRunArgv({
      engine,
      image: container.image,
      name,
      kernelId: plan.kernelId,
      home: container.home,
      argv: plan.argv,
      envNames: Object.keys(plan.env),
      readOnlyFiles: container.readOnlyFiles,
      ...(container.writableDir !== undefined ? { writableDirs: [container.writableDir] } : {}),
      limits: container.limits,
      ...(cgroupParent !== undefined ? { cgroupParent } : {}),
    });
    const { memory_mb: memoryMb, memory_warn_percent: memoryWarnPercent } = container.limits;
    const ref: ContainerRef = {
      engine,
      name,
      ...(cgroupParent !== undefined ? { cgroupParent } : {}),
      ...(memoryMb !== undefined ? { memoryMb } : {}),
      ...(memoryMb !== undefined && memoryWarnPercent !== undefined ? { memoryWarnPercent } : {}),
    };
    return { argv, env: hostEnv, configKey: `runtimes.${runtime}.container_engine`, container: ref };
  },
};

export const kubernetesLauncher: BackendLauncher = {
  kind: 'kubernetes',
  async command(plan, hostEnv) {
    const launched = await launchPod(plan, hostEnv);
    return { argv: launched.argv, env: hostEnv, configKey: launched.configKey, kube: launched.kube, connection: launched.connection };
  },
};

export function launcherFor(plan: LaunchPlan): BackendLauncher {
  return plan.kube !== undefined ? kubernetesLauncher : plan.container !== undefined ? containerLauncher : processLauncher;
}

/**
 * Signals a backend. A process backend's group gets it; so does a container's engine client,
 * which passes it into the container, except SIGKILL: that would only kill the client and leave
 * the container running, so the engine kills the container and the client then ends by itself.
 */
export function signalBackend(refs: LauncherRefs, signal: NodeJS.Signals, signalGroup: (signal: NodeJS.Signals) => boolean): boolean {
  const { container } = refs;
  if (refs.kube !== undefined) return signalKube(refs.kube, signal, signalGroup);
  if (container === undefined || signal !== 'SIGKILL') return signalGroup(signal);
  void killContainer(container.engine, container.name, signal).then((killed) => {
    // The engine could not do it (the container is gone, or the engine hangs): end the client.
    if (!killed) signalGroup(signal);
  });
  return true;
}

/**
 * After the backend's host process has ended: what the launcher knows about why (a container's
 * memory limit), and removal of what it left (the container, its cgroup parent). Never rejects.
 */
export async function settleBackend(refs: LauncherRefs, exit: ChildExit): Promise<Partial<Pick<BackendExit, 'reason' | 'cause' | 'exitCode'>>> {
  const { container } = refs;
  if (refs.kube !== undefined) return settleKube(refs.kube);
  if (container === undefined) return {};
  try {
    const end = await inspectEnd(container.engine, container.name, container.cgroupParent);
    await removeContainer(container.engine, container.name, container.cgroupParent);
    if (end === undefined) return {};
    const exitCode = exit.exitCode ?? end.exitCode;
    if (container.memoryMb !== undefined && endedByMemoryLimit(end, { memory_mb: container.memoryMb })) {
      return { exitCode, reason: 'memory-limit', cause: `killed: memory limit ${container.memoryMb} MB reached` };
    }
    return { exitCode };
  } catch {
    return {};
  }
}
