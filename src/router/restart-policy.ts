/** How a router restarts a backend that died: backoff, and a limit per window. Pure. */
export interface RestartPolicy {
  /** Restarts allowed within `windowMs`; one more death than this and the router waits for a request. */
  limit: number;
  windowMs: number;
  /** Delay before the first restart; each further one in the window doubles it. */
  firstDelayMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { limit: 5, windowMs: 60_000, firstDelayMs: 250 };

export type RestartDecision =
  | { readonly restart: true; readonly delayMs: number; readonly history: number[] }
  | { readonly restart: false; readonly deaths: number; readonly history: number[] };

/** `history`: when this requirement's backend died before (ms); `now`: this death. */
export function decideRestart(history: readonly number[], now: number, policy: RestartPolicy = DEFAULT_RESTART_POLICY): RestartDecision {
  const recent = [...history.filter((t) => now - t < policy.windowMs), now];
  if (recent.length > policy.limit) return { restart: false, deaths: recent.length, history: recent };
  return { restart: true, delayMs: policy.firstDelayMs * 2 ** (recent.length - 1), history: recent };
}
