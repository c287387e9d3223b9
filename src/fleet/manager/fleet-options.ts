/** Options, events and the sharing key of the FleetManager (fleet.ts). */
import type { Logger } from '../../shared/log.js';
import type { FleetConfig } from '../types.js';
import type { Requirement } from '../../shared/requirement.js';
import type { RouterRef } from './entry.js';
import type { ManagerEvent } from './protocol.js';

type Env = Record<string, string | undefined>;

export interface FleetManagerOptions {
  home: string;
  /** The environment backends are planned with (PATH, HOME, Jupyter paths). Default process.env. */
  env?: Env;
  logger?: Logger;
  /** Read before every spawn, so edits to fleet.toml apply without restarting the manager. */
  loadConfig?: () => Promise<FleetConfig>;
  /** How often an adopted backend's pid is checked (it has no child handle). Default 1000. */
  pollMs?: number;
  /** After adoption or a restart, how long routers that were attached get to re-attach before linger starts. Default DEFAULT_REATTACH_GRACE_MS. */
  reattachGraceMs?: number;
  /** SIGTERM → SIGKILL delay when stopping a backend. Default 2000. */
  stopGraceMs?: number;
  /** Readiness fallback for backends that never answer kernel_info on shell (see probe.ts). Default 10000. */
  heartbeatGraceMs?: number;
  /** Write registry.json (default true). */
  persist?: boolean;
}

/** Where a backend that a request spawns runs; a backend found running keeps its own. */
export interface SpawnWhere {
  /** Absolute working directory; default the manager's (its home). */
  cwd?: string;
  /** Provider key variables from the requester, layered over the manager's own environment. */
  keys?: Record<string, string> | undefined;
}

/** How a backend process ended, for the fleet's observers (the HTTP event stream). */
export interface FleetExit {
  kernelId: string;
  reason: string;
  exitCode?: number | null;
  signal?: string | null;
  /** A limit's own words for the end ("killed: memory limit 512 MB reached"). */
  cause?: string;
}

export type FleetEventListener = (event: ManagerEvent, to: readonly RouterRef[]) => void;

/** See FleetManagerOptions.reattachGraceMs. */
export const DEFAULT_REATTACH_GRACE_MS = 15_000;
