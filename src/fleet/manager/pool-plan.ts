/**
 * Which spares the pre-warmed pool (issue #12) starts and retires, given `[pool]`, the spares
 * that run, their memory and the room max_backends leaves. Pure: pool.ts reads the state and
 * does what the plan says.
 */
import type { PoolEntry } from '../types.js';

/** One spare as the plan sees it. */
export interface SpareFacts {
  kernelId: string;
  /** Its `[pool]` key, `runtime/provider`. */
  key: string;
  startedAt: number;
  /** Resident memory in MB, once /proc tells it (not yet for one just spawned). */
  rssMb?: number;
}

export interface PoolPlanInput {
  pool: Readonly<Record<string, PoolEntry>>;
  spares: readonly SpareFacts[];
  /** pool_max_mb; undefined: no cap. */
  maxMb?: number;
  /**
   * Backends max_backends allows beyond all that run now, spares included (negative when over);
   * undefined: no limit. Spares never take the last places from a user's request: see pool.ts.
   */
  room?: number;
  /** The size last seen of a spare of each key, to tell whether one more fits under maxMb. */
  typicalMb: Readonly<Record<string, number>>;
  /** Keys whose spare failed to start or to run its startup code lately: not retried yet. */
  blocked: ReadonlySet<string>;
}

export type RetireWhy = 'not in [pool]' | 'more than [pool] asks' | 'pool_max_mb' | 'max_backends';
export type HeldWhy = 'pool_max_mb' | 'max_backends' | 'failed lately';

export interface PoolPlan {
  /** One key per spare to start, in the order to start them. */
  start: string[];
  retire: { kernelId: string; key: string; why: RetireWhy }[];
  /** Spares [pool] asks for that are not started, and why (for the log). */
  held: { key: string; why: HeldWhy }[];
}

const size = (s: SpareFacts, typical: Readonly<Record<string, number>>) => s.rssMb ?? typical[s.key] ?? 0;

/**
 * Pure. Retires first what [pool] no longer asks for, then the newest spares while the pool is
 * over pool_max_mb or the fleet over max_backends; then starts the missing spares one key at a
 * time in turn (so one big requirement cannot take the whole cap), while they fit.
 */
export function planPool(input: PoolPlanInput): PoolPlan {
  const { pool } = input;
  const typicalMb: Record<string, number> = { ...input.typicalMb };
  for (const s of input.spares) if (s.rssMb !== undefined && !(s.key in input.typicalMb)) typicalMb[s.key] = Math.max(typicalMb[s.key] ?? 0, s.rssMb);
  const plan: PoolPlan = { start: [], retire: [], held: [] };
  // Newest first: the oldest spares have paid their start-up (and startup code) longest ago.
  const byAge = [...input.spares].sort((a, b) => b.startedAt - a.startedAt);
  const kept: SpareFacts[] = [];
  const perKey = new Map<string, number>();
  for (const spare of [...byAge].reverse()) {
    const wanted = Object.hasOwn(pool, spare.key) ? pool[spare.key]!.count : undefined;
    const have = perKey.get(spare.key) ?? 0;
    if (wanted === undefined || have >= wanted) {
      plan.retire.push({ kernelId: spare.kernelId, key: spare.key, why: wanted === undefined || wanted === 0 ? 'not in [pool]' : 'more than [pool] asks' });
      continue;
    }
    perKey.set(spare.key, have + 1);
    kept.push(spare);
  }
  kept.sort((a, b) => b.startedAt - a.startedAt);
  let total = kept.reduce((sum, s) => sum + size(s, typicalMb), 0);
  let room = input.room;
  const retire = (spare: SpareFacts, why: RetireWhy) => {
    plan.retire.push({ kernelId: spare.kernelId, key: spare.key, why });
    perKey.set(spare.key, (perKey.get(spare.key) ?? 1) - 1);
    total -= size(spare, typicalMb);
    if (room !== undefined) room++;
  };
  while (kept.length > 0 && ((input.maxMb !== undefined && total > input.maxMb) || (room !== undefined && room < 0))) {
    retire(kept.shift()!, room !== undefined && room < 0 ? 'max_backends' : 'pool_max_mb');
  }
  const missing = new Map(Object.entries(pool).map(([key, entry]) => [key, Math.max(0, entry.count - (perKey.get(key) ?? 0))]));
  for (let more = true; more; ) {
    more = false;
    for (const [key, left] of missing) {
      if (left === 0) continue;
      const why = heldBecause(key, { input, typicalMb, total, room });
      if (why !== undefined) {
        plan.held.push({ key, why });
        missing.set(key, 0);
        continue;
      }
      plan.start.push(key);
      total += typicalMb[key] ?? 0;
      if (room !== undefined) room--;
      missing.set(key, left - 1);
      more = true;
    }
  }
  return plan;
}

function heldBecause(key: string, at: { input: PoolPlanInput; typicalMb: Record<string, number>; total: number; room: number | undefined }): HeldWhy | undefined {
  const { input, typicalMb, total, room } = at;
  if (input.blocked.has(key)) return 'failed lately';
  if (room !== undefined && room <= 0) return 'max_backends';
  if (input.maxMb !== undefined && total + (typicalMb[key] ?? 0) > input.maxMb) return 'pool_max_mb';
  return undefined;
}
