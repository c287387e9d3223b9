/**
 * The manager's operations, once: every transport (the unix socket in server.ts, the HTTP API
 * in http/) turns its input into a ManagerRequest checked by requests.ts and runs it here.
 */
import { FleetError, isFleetError } from '../../shared/errors.js';
import { readTail } from '../log-tail.js';
import type { FleetManager } from './fleet.js';
import type { BackendUsage } from '../../shared/backend.js';
import { measureBackend, type FamilyReading, type UsageSamplers } from './backend-usage.js';
import type { CpuPercent } from './cpu-percent.js';
import { readFamilyUsages } from './proc-usage.js';
import { watchFleetEvents } from './fleet-events.js';
import type { BackendLog, ListedBackend, ManagerEvent, ManagerInfo, ManagerRequest } from './protocol.js';

/** A connection that can carry pushed lines (the socket's): what `events` streams to. */
export interface Subscriber {
  push(event: ManagerEvent): void;
  /** `stop` runs once the connection has closed. */
  onClose(stop: () => void): void;
}

export interface OperationContext {
  fleet: FleetManager;
  /** CPU % between the lists someone asked for (cpu-percent.ts); none: no CPU column. */
  cpu?: CpuPercent;
  /**
   * For `usage`: the host's CPU % between usage requests, and the family measure `list` and
   * /metrics read too (backend-usage.ts), with `cpu` as its CPU sampler. None: `usage` is refused.
   */
  usage?: UsageSamplers;
  home: string;
  socketPath: string;
  startedAt: number;
}

/**
 * `conn`: the socket connection whose lease an attachment is (none for HTTP: it never attaches).
 * `subscriber`: where `events` pushes (none for HTTP, which streams them as server-sent events).
 */
export function runOperation(ctx: OperationContext, conn: number | undefined, req: ManagerRequest, subscriber?: Subscriber): Promise<unknown> | unknown {
  const fleet = ctx.fleet;
  switch (req.op) {
    case 'ping':
      return { pid: process.pid, home: ctx.home, socket: ctx.socketPath, startedAt: ctx.startedAt, backends: fleet.list().filter((b) => b.state !== 'dead').length } satisfies ManagerInfo;
    case 'acquire':
      return fleet.acquire(req.requirement, { routerId: req.routerId, pid: req.pid, conn }, { cwd: req.cwd, keys: req.keys });
    case 'attach':
      return fleet.attach(req.kernelId, { routerId: req.routerId, pid: req.pid, conn });
    case 'release':
      fleet.release(req.kernelId, req.routerId, req.cells);
      return { released: true };
    case 'take-output':
      return { output: fleet.takeOutput(req.kernelId, req.routerId) ?? null };
    case 'execution-state':
      return { noted: fleet.executionState(req.kernelId, req.routerId, req.executionState) };
    case 'relay-counts': {
      const { kernelId, relayed, dropped, executions, durations } = req;
      return { noted: fleet.relayCounts(kernelId, { relayed, dropped, executions, durations }) };
    }
    case 'restart':
      return fleet.restart(req.kernelId, req.routerId, req.keys);
    case 'spawn':
      return fleet.spawn(req.requirement, { cwd: req.cwd, keys: req.keys });
    case 'find':
      return fleet.find(req.requirement, { cwd: req.cwd, keys: req.keys });
    case 'list':
      return withCpu(ctx, fleet.list(), true);
    case 'get':
      return withCpu(ctx, [listed(fleet, req.kernelId)], false)[0];
    case 'logs':
      return backendLog(listed(fleet, req.kernelId), req.tail ?? DEFAULT_LOG_TAIL);
    case 'usage':
      return usage(ctx, listed(fleet, req.kernelId));
    case 'stop':
      return fleet.stop(req.target);
    case 'interrupt':
      return fleet.interrupt(req.target);
    case 'stop-all':
    case 'shutdown':
      return fleet.stopAll();
    case 'cleanup':
      return fleet.cleanup();
    case 'health':
      return fleet.health();
    case 'events': {
      if (subscriber === undefined) throw new FleetError('BAD_REQUEST', 'events streams only over a connection that stays open: the manager socket, or GET /api/v1/events', {});
      const stop = watchFleetEvents(fleet, (event) => subscriber.push({ event: 'fleet-event', kernelId: event.kernelId, fleet: event }));
      subscriber.onClose(stop);
      return { subscribed: true };
    }
  }
}

export const DEFAULT_LOG_TAIL = 50;

/** `cpuPercent` of each live backend's family, from one reading for all of them; `all`: the whole fleet (gone ones are forgotten). */
function withCpu(ctx: OperationContext, backends: ListedBackend[], all: boolean): ListedBackend[] {
  const cpu = ctx.cpu;
  if (cpu === undefined) return backends;
  // A pod backend's pid is its local stand-in's: its CPU is not the backend's.
  const live = backends.filter((b) => b.state !== 'dead' && b.kube === undefined);
  const { at, usage } = readFamilies(ctx, live.map((b) => b.pid));
  if (all) cpu.keepOnly(new Set(live.map((b) => b.kernelId)));
  return backends.map((b) => {
    const seconds = b.state === 'dead' || b.kube !== undefined ? undefined : usage.get(b.pid)?.cpuSeconds;
    return seconds === undefined ? b : { ...b, cpuPercent: cpu.sample(b.kernelId, seconds, at, b.startedAt) };
  });
}

/** Through the shared sampler when there is one (the manager's), else read now. */
function readFamilies(ctx: OperationContext, leaders: readonly number[]): FamilyReading {
  return ctx.usage?.families.read(leaders) ?? { at: Date.now(), usage: readFamilyUsages(leaders) };
}

/** The usage of one live backend's family (backend-usage.ts). */
function usage(ctx: OperationContext, backend: ListedBackend): BackendUsage {
  const gone = () => new FleetError('BACKEND_EXITED', `backend ${backend.kernelId} (pid ${backend.pid}) has no process left to measure; see \`llmspell-fleet list\``, { kernelId: backend.kernelId, pid: backend.pid });
  if (ctx.usage === undefined) throw new FleetError('MANAGER_ERROR', 'this manager does not measure usage; restart it with `llmspell-fleet manager stop`', { kernelId: backend.kernelId });
  if (backend.state === 'dead') throw gone();
  const measured = measureBackend(ctx.usage, backend);
  if (measured === undefined) throw gone();
  return measured;
}

function listed(fleet: FleetManager, kernelId: string): ListedBackend {
  const found = fleet.list().find((b) => b.kernelId === kernelId);
  if (found === undefined) throw new FleetError('UNKNOWN_BACKEND', `no backend ${kernelId} in the fleet; see \`llmspell-fleet list\``, { kernelId });
  return found;
}

async function backendLog(backend: ListedBackend, tail: number): Promise<BackendLog> {
  // A pod backend's output is the pod's log (its local log has only its stand-in's banner).
  if (backend.kube !== undefined) {
    const { podLog } = await import('../launchers/kube/lifecycle.js');
    return { kernelId: backend.kernelId, logFile: `pod ${backend.kube.namespace}/${backend.kube.pod}`, text: await podLog(backend.kube, tail) };
  }
  try {
    const { text } = await readTail(backend.logFile, tail);
    return { kernelId: backend.kernelId, logFile: backend.logFile, text };
  } catch (error) {
    // A backend that has not written yet has no log file: an empty log, not an error.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kernelId: backend.kernelId, logFile: backend.logFile, text: '' };
    throw error;
  }
}

/** The error body both transports answer with. */
export function errorBody(error: unknown): { code: string; message: string; context?: Record<string, unknown> } {
  if (isFleetError(error)) return { code: error.code, message: error.message, context: { ...error.context } };
  return { code: 'MANAGER_ERROR', message: `the fleet manager failed: ${error instanceof Error ? error.message : String(error)}; see its log` };
}
