/**
 * Watching a running backend's cgroup, cheaply: its memory every 250 ms (one small file) for
 * the warning before memory_mb is reached, fork refusals for the pids notice, and its CPU time
 * once a second against cpu_seconds. The decisions are pure (memoryWarning, pidsNotice); the
 * fleet turns the callbacks into events for the attached routers, and into a stop.
 */
import type { BackendLimits } from '../types.js';
import { DEFAULT_MEMORY_WARN_PERCENT } from '../limits.js';
import { memoryPercent, type CounterName } from './cgroup-layout.js';

export const WATCH_INTERVAL_MS = 250;
/** CPU time is read every this many ticks (1 s): cpu_seconds is coarse, and cpuacct costs more. */
const CPU_EVERY = 4;
/** Below warn percent minus this, the warning is armed again (for the next cell that fills memory). */
const REARM_BELOW_POINTS = 10;

export interface LimitWatchEvents {
  /** Memory crossed memory_warn_percent of memory_mb. */
  onMemoryWarning(text: string): void;
  /** The pids limit refused a fork or thread (first time, or again after a quiet spell). */
  onPidsLimit(text: string): void;
  /** cpu_seconds are used up: the backend must be stopped. */
  onCpuTimeUsedUp(usedSeconds: number): void;
}

/** Pure: whether this reading warns (and the armed state after it). */
export function memoryWarning(percent: number | undefined, limits: BackendLimits, armed: boolean): { warn: boolean; armed: boolean } {
  if (percent === undefined) return { warn: false, armed };
  const at = limits.memory_warn_percent ?? DEFAULT_MEMORY_WARN_PERCENT;
  if (armed && percent >= at) return { warn: true, armed: false };
  if (!armed && percent < at - REARM_BELOW_POINTS) return { warn: false, armed: true };
  return { warn: false, armed };
}

/** Pure: the words of the memory warning the running cell gets. */
export function memoryWarningText(limits: BackendLimits, usageBytes: number): string {
  const used = Math.round(usageBytes / 1024 / 1024);
  return `this backend uses ${used} MB of its ${limits.memory_mb} MB memory limit; at the limit it is killed and its state is lost. Save your work or interrupt the cell.`;
}

export function pidsLimitText(limits: BackendLimits): string {
  return `this backend reached its process limit (pids ${limits.pids}): a new process or thread was refused.`;
}

/**
 * What is watched: a backend's own cgroup (LimitEnforcement), or the cgroup above a container
 * (container-watch.ts), which offers its memory only.
 */
export interface WatchedCgroup {
  readonly limits: BackendLimits;
  readonly cgroup: { read(name: CounterName): Promise<number | undefined> } | undefined;
  cpuSecondsUsed(): Promise<number | undefined>;
}

/** Starts watching; returns the stop. Readings never overlap: the next waits for the last. */
export function watchLimits(enforcement: WatchedCgroup, events: LimitWatchEvents, intervalMs = WATCH_INTERVAL_MS): () => void {
  const cgroup = enforcement.cgroup;
  const { limits } = enforcement;
  if (cgroup === undefined || (limits.memory_mb === undefined && limits.pids === undefined && limits.cpu_seconds === undefined)) return () => undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let armed = true;
  let tick = 0;
  let pidsSeen: number | undefined;
  let pidsBurst = false;
  let cpuDone = false;
  const once = async () => {
    if (limits.memory_mb !== undefined) {
      const usage = await cgroup.read('memoryUsage');
      const decision = memoryWarning(usage === undefined ? undefined : memoryPercent(usage, limits), limits, armed);
      armed = decision.armed;
      if (decision.warn && usage !== undefined && !stopped) events.onMemoryWarning(memoryWarningText(limits, usage));
    }
    if (limits.pids !== undefined) {
      const hits = await cgroup.read('pidsMaxHits');
      // The first reading is the baseline (an adopted backend may have hit it before).
      // One notice per burst of refusals: a fork loop refuses on every tick until it gives up.
      const rising = hits !== undefined && pidsSeen !== undefined && hits > pidsSeen;
      if (rising && !pidsBurst && !stopped) events.onPidsLimit(pidsLimitText(limits));
      pidsBurst = rising;
      if (hits !== undefined) pidsSeen = hits;
    }
    if (limits.cpu_seconds !== undefined && !cpuDone && tick % CPU_EVERY === 0) {
      const used = await enforcement.cpuSecondsUsed();
      if (used !== undefined && used >= limits.cpu_seconds && !stopped) {
        cpuDone = true;
        events.onCpuTimeUsedUp(used);
      }
    }
    tick++;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => void once().finally(schedule), intervalMs);
    timer.unref();
  };
  schedule();
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimeout(timer);
  };
}
