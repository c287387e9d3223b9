import type { StartupPhase, StartupTrace } from '../src/shared/startup-trace.js';
import { median } from './stats.js';

/**
 * Where a routed cold start's time goes (issue #12 item 3): the router's phases and those of
 * the manager it starts on one time line, in ms since the router's launch, so what runs one
 * after another and what overlaps shows. Each figure is the median over the traced starts.
 */
export interface TracedColdStart {
  /** Epoch ms just before the router was launched. */
  spawnedAt: number;
  kernelInfo: number;
  router: StartupTrace;
  manager?: StartupTrace;
}

type Who = 'router' | 'manager';
type Point = StartupPhase | 'start' | 'boot';

const ROWS: ReadonlyArray<[Who, Point, string]> = [
  ['router', 'start', 'process started'],
  ['router', 'boot', 'node bootstrapped'],
  ['router', 'cli', 'main.ts runs (its first modules loaded)'],
  ['router', 'manager-spawned', 'no manager socket: manager process spawned'],
  ['router', 'action', 'commander and the router command loaded (zeromq, pino, config, router)'],
  ['router', 'planned', 'config read, requirement resolved'],
  ['router', 'listening', 'client sockets bound'],
  ['router', 'manager', 'connected to the manager'],
  ['router', 'acquired', 'acquire answered: backend handed out'],
  ['router', 'ready', 'backend connected, kernel_info and iopub handshake done'],
  ['manager', 'start', 'process started'],
  ['manager', 'boot', 'node bootstrapped'],
  ['manager', 'cli', 'main.ts runs (its first modules loaded)'],
  ['manager', 'action', 'commander and the manager command loaded (fleet, server, pino)'],
  ['manager', 'prewarm', 'prewarm asked for the first backend'],
  ['manager', 'manager-listening', 'socket listening'],
  ['manager', 'manager-ready', "registry adopted: serving routers' requests"],
  ['manager', 'acquire-received', 'first acquire received'],
  ['manager', 'backend-spawned', 'backend process spawned'],
  ['manager', 'backend-ready', 'backend answered kernel_info'],
  ['manager', 'acquire-answered', 'acquire answer sent'],
];

/** ms since the router's launch at which `who` reached `point` in one start (NaN if not marked). */
function at(start: TracedColdStart, who: Who, point: Point): number {
  const trace = who === 'router' ? start.router : start.manager;
  if (trace === undefined) return Number.NaN;
  const since = point === 'start' ? 0 : point === 'boot' ? trace.bootstrapComplete : (trace.marks[point] ?? Number.NaN);
  return trace.timeOrigin + since - start.spawnedAt;
}

function cpuAt(start: TracedColdStart, who: Who, point: Point): number {
  const trace = who === 'router' ? start.router : start.manager;
  if (trace === undefined || point === 'start' || point === 'boot') return point === 'start' || point === 'boot' ? 0 : Number.NaN;
  return trace.cpu[point] ?? Number.NaN;
}

/** Rows: process, phase, ends at (ms since router launch), takes (since that process's previous phase on the time line), CPU of that step. */
export function coldBreakdownRows(starts: readonly TracedColdStart[]): string[][] {
  const ms = (x: number) => (Number.isNaN(x) ? '' : x.toFixed(1));
  const points = ROWS.map(([who, point, label]) => ({ who, point, label, end: median(starts.map((s) => at(s, who, point))) }))
    .filter((p) => !Number.isNaN(p.end))
    .sort((a, b) => a.end - b.end);
  const previous: Partial<Record<Who, Point>> = {};
  const rows = points.map(({ who, point, label, end }) => {
    const before = previous[who];
    previous[who] = point;
    const takes = before === undefined ? Number.NaN : median(starts.map((s) => at(s, who, point) - at(s, who, before)));
    const cpu = before === undefined ? Number.NaN : median(starts.map((s) => cpuAt(s, who, point) - cpuAt(s, who, before)));
    return [who, label, ms(end), ms(takes), ms(cpu)];
  });
  rows.push(['client', 'first kernel_info_reply', ms(median(starts.map((s) => s.kernelInfo))), '', '']);
  return rows;
}

export const COLD_BREAKDOWN_HEADER = ['process', 'routed cold start, phase', 'ends at (ms since router launch)', 'takes (ms, since its previous phase)', 'CPU (ms)'];
