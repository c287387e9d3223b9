/**
 * A backend's start-up as BackendProcess (backend-process.ts) waits for it: the kernel's
 * connection file against its exit and the startup timeout, and the errors that say why it was
 * not ready, with the last lines of its log.
 */
import { FleetError, isFleetError } from '../shared/errors.js';
import { describeExit } from '../shared/exit.js';
import type { ConnectionInfo } from '../wire/connection-file.js';
import { readLogTail, type ChildExit, type SpawnedChild } from './spawn.js';
import type { LaunchPlan } from './types.js';
import { probeConnectionFile, waitForConnectionFile } from './wait-connection-file.js';

/** Lines of the backend's log an error that it did not start quotes. */
export const TAIL_LINES = 20;

export function describeBackend(plan: LaunchPlan): string {
  return `${plan.requirement.runtime}/${plan.requirement.provider} backend (kernel ${plan.kernelId})`;
}

type StartupAbort = { kind: 'timeout' } | { kind: 'exited'; exit: ChildExit };

/** Race: the kernel's connection file vs its exit vs the startup timeout. */
export async function awaitKernelConnection(plan: LaunchPlan, child: SpawnedChild): Promise<ConnectionInfo> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort({ kind: 'timeout' } satisfies StartupAbort), plan.startupTimeoutMs);
  void child.exit.then((exit) => controller.abort({ kind: 'exited', exit } satisfies StartupAbort));
  try {
    const info = await waitForConnectionFile(plan.connectionFile, { signal: controller.signal });
    // The file may be complete while the process is already dying: that is not a ready backend.
    if (!child.alive) throw exitedError(plan, child, await child.exit);
    return info;
  } catch (error) {
    if (isFleetError(error)) throw error;
    const reason = controller.signal.reason as StartupAbort;
    if (reason.kind === 'exited') throw exitedError(plan, child, reason.exit);
    const probe = await probeConnectionFile(plan.connectionFile);
    const state = probe.ok ? 'it appeared just now' : probe.detail;
    throw new FleetError(
      'READY_TIMEOUT',
      `${describeBackend(plan)} did not write its connection file ${plan.connectionFile} within ${plan.startupTimeoutMs} ms (${state}); ` +
        `it was stopped. Raise runtimes.${plan.requirement.runtime}.startup_timeout if it is just slow, or read ${plan.logFile}`,
      {
        kernelId: plan.kernelId,
        runtime: plan.requirement.runtime,
        provider: plan.requirement.provider,
        pid: child.pid,
        waitedFor: 'connection file',
        connectionFile: plan.connectionFile,
        timeoutMs: plan.startupTimeoutMs,
        logFile: plan.logFile,
      },
    );
  } finally {
    clearTimeout(timer);
  }
}

function exitedError(plan: LaunchPlan, child: SpawnedChild, exit: ChildExit): FleetError {
  const how = describeExit(exit);
  return new FleetError('BACKEND_EXITED', `${describeBackend(plan)} ${how} before it was ready; see ${plan.logFile}`, {
    kernelId: plan.kernelId,
    runtime: plan.requirement.runtime,
    provider: plan.requirement.provider,
    pid: child.pid,
    exitCode: exit.exitCode,
    signal: exit.signal,
    logFile: plan.logFile,
  });
}

/** The log tail is only complete once the process is gone, so it is added after termination. */
export async function withTail(error: FleetError, plan: LaunchPlan, child: SpawnedChild): Promise<FleetError> {
  const stderrTail = await readLogTail(plan.logFile, { fromOffset: child.logOffset, lines: TAIL_LINES });
  const shown = stderrTail.length > 0 ? `\nlast lines of ${plan.logFile}:\n${stderrTail}` : ` (it wrote nothing to ${plan.logFile})`;
  return new FleetError(error.code, `${error.message}${shown}`, { ...error.context, stderrTail }, { cause: error.cause });
}
