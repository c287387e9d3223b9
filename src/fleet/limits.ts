/**
 * Which resource limits apply to one backend (issue #10). Pure: enforcement (cgroups, prlimit,
 * container flags) reads the result and never the config tables themselves, so every launcher
 * agrees on what "the limits of python/openai" are.
 */
import type { Requirement } from '../shared/requirement.js';
import type { BackendLimits, FleetConfig } from './types.js';

export const LIMIT_KEYS = ['memory_mb', 'cpus', 'pids', 'cpu_seconds', 'idle_cull_seconds', 'memory_warn_percent'] as const satisfies ReadonlyArray<keyof BackendLimits>;

/** The share of memory_mb at which the running cell is warned, when nothing else is set. */
export const DEFAULT_MEMORY_WARN_PERCENT = 90;

function pick(from: BackendLimits | undefined): BackendLimits {
  const out: BackendLimits = {};
  if (from === undefined) return out;
  for (const key of LIMIT_KEYS) if (from[key] !== undefined) out[key] = from[key];
  return out;
}

/**
 * The runtime's limits with the provider's laid over them key by key: a provider is the more
 * specific choice (an ollama model needs more memory than a cloud client), so it wins.
 * Unknown runtime or provider names give no limits; resolution reports those elsewhere.
 */
export function effectiveLimits(config: Pick<FleetConfig, 'runtimes' | 'providers'>, requirement: Requirement): BackendLimits {
  const runtime = Object.hasOwn(config.runtimes, requirement.runtime) ? config.runtimes[requirement.runtime] : undefined;
  const provider = Object.hasOwn(config.providers, requirement.provider) ? config.providers[requirement.provider] : undefined;
  return { ...pick(runtime), ...pick(provider) };
}

/** True when any limit is set: a backend without limits needs no cgroup at all. */
export function hasLimits(limits: BackendLimits): boolean {
  return LIMIT_KEYS.some((key) => key !== 'memory_warn_percent' && limits[key] !== undefined);
}

/** One line for logs, list and doctor: "memory 512 MB, cpus 0.5, pids 64". */
export function describeLimits(limits: BackendLimits): string {
  const parts: string[] = [];
  if (limits.memory_mb !== undefined) parts.push(`memory ${limits.memory_mb} MB`);
  if (limits.cpus !== undefined) parts.push(`cpus ${limits.cpus}`);
  if (limits.pids !== undefined) parts.push(`pids ${limits.pids}`);
  if (limits.cpu_seconds !== undefined) parts.push(`cpu time ${limits.cpu_seconds} s`);
  if (limits.idle_cull_seconds !== undefined) parts.push(`culled after ${limits.idle_cull_seconds} s idle`);
  return parts.length > 0 ? parts.join(', ') : 'no limits';
}
