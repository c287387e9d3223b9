/**
 * The fleet manager's protocol: newline-delimited JSON over a unix socket at
 * `<fleet home>/manager.sock` (mode 0600, in a 0700 home). One request per line, one response
 * per line, matched by `id`. A router keeps its connection open for as long as it uses a
 * backend: the open connection IS the attachment lease, so a router killed with SIGKILL
 * detaches the moment the kernel closes its socket.
 *
 * Secrets: responses carry a backend's connection info (with its HMAC key) only to the
 * socket's owner (the same user); the registry on disk holds no key and no provider env.
 */
import type { PodStatusSummary } from '../launchers/kube/reasons.js';
import type { BackendCondition } from '../../shared/backend-state.js';
import type { ConnectionInfo } from '../../wire/connection-file.js';
import type { HeldOutputSummary, RunningCell } from '../../shared/detached-output.js';
import type { InterruptMode, Requirement } from '../../shared/requirement.js';
import type { RelayDelta } from '../../shared/relay-counts.js';
import type { ContainerRef, KubeRef } from '../types.js';
import type { BackendLimits } from '../types.js';

export type BackendState = 'starting' | 'ready' | 'stopping' | 'exited';

/** What the registry and `list` show about one backend. No secrets. */
export interface BackendRecord {
  kernelId: string;
  pid: number;
  requirement: Requirement;
  state: BackendState;
  interruptMode: InterruptMode;
  connectionFile: string;
  logFile: string;
  /** ms since epoch */
  startedAt: number;
  /** ports in the order shell, iopub, stdin, control, hb */
  ports: number[];
  ip: string;
  /** Routers attached now: id and pid of each. */
  attached: { routerId: string; pid: number }[];
  /** When the last router left (ms since epoch), if none is attached. */
  idleSince?: number;
  /** Process start time from /proc (clock ticks), to tell our pid from a reused one. */
  procStart?: number;
  /** Working directory it was started in, when not the manager's (added with the manager). */
  cwd?: string;
  /** Container backends (issue #10): `pid` is the engine client's, which runs as long as the container. */
  container?: ContainerRef;
  /** Pod backends (issue #11): `pid` is a local stand-in's, which lives as long as the pod. */
  kube?: KubeRef;
  /**
   * A spare of the pre-warmed pool (added with the pool, issue #12): "warming" while it starts
   * and runs its startup code, "ready" once it is offered. Absent for every other backend.
   */
  spare?: 'warming' | 'ready';
  /** Its resource limits (added with limits): a manager that adopts it watches them again. */
  limits?: BackendLimits;
  /** How the limits are enforced: cgroup-v1, cgroup-v2, prlimit or none (added with limits). */
  enforcedBy?: 'cgroup-v1' | 'cgroup-v2' | 'prlimit' | 'none';
}

/** A lease as a router needs it: where to connect, with the key. */
export interface BackendHandle {
  record: BackendRecord;
  connection: ConnectionInfo;
}

export type ManagerRequest =
  | { id: number; op: 'ping' }
  /**
   * Find a running backend with this requirement or spawn one; attach the caller to it.
   * `cwd` (optional, absolute; added with the manager): the working directory of a backend this
   * request spawns, e.g. the router's (Jupyter starts kernels in the notebook's directory).
   * A shared backend keeps the directory of whoever started it.
   */
  | { id: number; op: 'acquire'; requirement: Requirement; routerId: string; pid: number; cwd?: string; keys?: Record<string, string> }
  /** Re-attach after a manager restart (the router already holds the data path). */
  | { id: number; op: 'attach'; kernelId: string; routerId: string; pid: number }
  /** `cells` (added with replay): the router's cells still running there, named in the heading of their kept output. */
  | { id: number; op: 'release'; kernelId: string; routerId: string; cells?: RunningCell[] }
  /** Take (once) the output the backend printed while no router was attached; the caller must be attached to it. */
  | { id: number; op: 'take-output'; kernelId: string; routerId: string }
  /** Restart a shared backend for everyone attached: same requirement, new process, new kernelId. */
  | { id: number; op: 'restart'; kernelId: string; routerId: string; keys?: Record<string, string> }
  /** Spawn a new backend even if one with the requirement exists (CLI `spawn`). */
  | { id: number; op: 'spawn'; requirement: Requirement; cwd?: string; keys?: Record<string, string> }
  /** Find or spawn without attaching (CLI `find`). */
  | { id: number; op: 'find'; requirement: Requirement; cwd?: string; keys?: Record<string, string> }
  /**
   * A router says the backend's iopub went busy or idle (the manager is not in the data path).
   * Sent on change, coalesced; the backend is busy while any attached router last said busy.
   */
  | { id: number; op: 'execution-state'; kernelId: string; routerId: string; executionState: 'busy' | 'idle' }
  /**
   * What a router relayed for the backend since its last report (added with the metrics, issue
   * #9): deltas, coalesced (about once a second and at release), added to the manager's totals.
   */
  | ({ id: number; op: 'relay-counts'; kernelId: string; routerId: string } & RelayDelta)
  | { id: number; op: 'list' }
  /** One backend as `list` shows it (added with the HTTP API); UNKNOWN_BACKEND when none has the id. */
  | { id: number; op: 'get'; kernelId: string }
  /** The last `tail` lines (default 50) of a backend's log, running or dead-but-listed (added with the HTTP API). */
  | { id: number; op: 'logs'; kernelId: string; tail?: number }
  /**
   * What a backend's process group uses now, and its host, for the router's usage_reply (added
   * with usage, issue #9). UNKNOWN_BACKEND when none has the id, BACKEND_EXITED when its group is gone.
   */
  | { id: number; op: 'usage'; kernelId: string }
  | { id: number; op: 'stop'; target: string }
  | { id: number; op: 'interrupt'; target: string }
  | { id: number; op: 'stop-all' }
  /** Remove dead entries and stale files. */
  | { id: number; op: 'cleanup' }
  | { id: number; op: 'health' }
  /** Subscribe this connection to fleet events: answered { subscribed: true }, then each as a pushed `fleet-event` until it closes (GET /api/v1/events over HTTP). */
  | { id: number; op: 'events' }
  | { id: number; op: 'shutdown' };

export type ManagerOp = ManagerRequest['op'];

export interface HealthReport {
  kernelId: string;
  pid: number;
  processAlive: boolean;
  heartbeat: boolean;
  heartbeatMs?: number;
}

export type ManagerResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { code: string; message: string; context?: Record<string, unknown> } };

/**
 * Pushed to attached routers (no `id`): the backend they use was replaced or ended, or
 * (backend-warning, added with limits) is about to hit a limit: `message` is for the running cell.
 */
export interface ManagerEvent {
  event: 'backend-restarted' | 'backend-exited' | 'backend-warning' | 'fleet-event';
  kernelId: string;
  /** For backend-restarted: the new backend. */
  handle?: BackendHandle;
  reason?: string;
  /** For backend-exited, when known (a backend this manager spawned). */
  exitCode?: number | null;
  signal?: string | null;
  /** For backend-exited: words for the user when a limit or the fleet ended it ("killed: memory limit 512 MB reached", culled). */
  cause?: string;
  /** For backend-exited: the last lines it wrote (its log from this start), for a crash's notice. */
  stderrTail?: string;
  /** For backend-warning: the text the running cell gets. */
  message?: string;
  /** For fleet-event (to a connection that asked for `events`): what changed in the fleet. */
  fleet?: FleetEvent;
}

export type FleetEventType = 'spawned' | 'ready' | 'attached' | 'detached' | 'busy' | 'idle' | 'restarting' | 'restarted' | 'exited' | 'stopped';

/** One change in the fleet, as both transports send it (derived from `list`: http/events.ts). */
export interface FleetEvent {
  type: FleetEventType;
  kernelId: string;
  runtime: string;
  provider: string;
  group?: string;
  /** ms since the epoch. */
  time: number;
  /** attached, detached: which router. */
  routerId?: string;
  /** exited, stopped: why (exited, signalled, stopped, culled, restart failed: …). */
  reason?: string;
  exitCode?: number | null;
  signal?: string | null;
  /** exited by a limit: its own words ("killed: memory limit 512 MB reached"). */
  cause?: string;
}

/**
 * Results by op (what `result` holds in an ok response). Added with the manager; the wire
 * format above is unchanged.
 *   ping → ManagerInfo; acquire, attach, find, spawn, restart → BackendHandle;
 *   release → { released: true }; take-output → { output: DetachedOutput | null };
 *   execution-state, relay-counts → { noted: boolean }; list → ListedBackend[]; get → ListedBackend;
 *   logs → BackendLog; usage → BackendUsage (shared/backend.ts); stop, stop-all → { stopped: BackendRecord[] }; interrupt → { interrupted, mode };
 *   cleanup → CleanupReport; health → HealthReport[]; shutdown → { stopped: BackendRecord[] }
 *   (then the manager closes every connection and exits).
 */
export interface ManagerInfo {
  pid: number;
  home: string;
  socket: string;
  startedAt: number;
  backends: number;
}

/**
 * A record as `list` shows it: `state` is what the backend is doing now (busy from its routers'
 * reports, restarting, dead for one that exited on its own, shown for a while), with the
 * backend's resident memory when /proc tells it.
 */
export interface ListedBackend extends Omit<BackendRecord, 'state'> {
  state: BackendCondition;
  rssBytes?: number;
  /** Output kept for the next client, while the backend has none or until one takes it. */
  heldOutput?: HeldOutputSummary;
  /** CPU % of its process group (100 = one core) since the last list, or over its life at the first (cpu-percent.ts). */
  cpuPercent?: number;
  /** Messages its routers relayed (every channel, both directions) since this manager started; the dashboard's rate. */
  messagesRelayed?: number;
  /** A dead one: how it ended (reason, and a limit's own words in `cause`). Added with limits. */
  lastExit?: { reason: string; cause?: string; exitCode: number | null; signal: string | null };
  /** A pod backend: its pod's phase, the kernel container's restarts and its node, as the fleet's watch last saw them. */
  podStatus?: PodStatusSummary;
}

export interface BackendLog {
  kernelId: string;
  logFile: string;
  /** The last lines asked for, each ending in a newline. */
  text: string;
}

export interface CleanupReport {
  /** Backends whose process was gone, now forgotten. */
  removed: BackendRecord[];
  /** Connection files and temporary files nobody owned, now deleted. */
  files: string[];
  /** Containers of this fleet no backend owned, now removed ("engine:name"; added with container backends). */
  containers?: string[];
  /** Pods and Secrets of this fleet no backend owned, now deleted ("namespace/pod/name"; added with pod backends). */
  pods?: string[];
}
