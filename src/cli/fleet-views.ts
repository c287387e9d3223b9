/**
 * Pure views of manager answers for the fleet commands: what `list`, `health`, `spawn` show,
 * as human tables or as JSON for scripts. Only whitelisted record fields ever reach output, so
 * a connection key or provider env value the manager might carry can never be printed.
 */
import type { HeldOutputSummary } from '../shared/detached-output.js';
import type { BackendRecord, HealthReport, ListedBackend } from '../fleet/manager/protocol.js';
import type { StopTarget } from './fleet-args.js';
import { UNKNOWN, formatBytes, formatFields, formatLatency, formatPorts, formatUptime } from './format.js';

/** A record as the manager answers it: `list` adds rssBytes and says what the backend is doing in `state`. */
export type ListedRecord = Omit<BackendRecord, 'state'> & { state: BackendRecord['state'] | ListedBackend['state']; rssBytes?: number; cpuPercent?: number; heldOutput?: ListedBackend['heldOutput']; lastExit?: ListedBackend['lastExit']; podStatus?: ListedBackend['podStatus'] };

/** What --json prints for one backend: record fields plus derived ones, never secrets. */
export interface PublicRecord {
  kernelId: string;
  pid: number;
  requirement: { runtime: string; provider: string; group?: string };
  state: string;
  interruptMode: string;
  connectionFile: string;
  logFile: string;
  ip: string;
  ports: number[];
  startedAt: number;
  uptimeMs: number;
  clients: number;
  attached: { routerId: string; pid: number }[];
  idleSince?: number;
  rssBytes?: number;
  /** CPU % of its process group (100 = one core), as the manager measured it between lists. */
  cpuPercent?: number;
  /** Output kept for the next client (counts only), while the backend has none or until one takes it. */
  heldOutput?: HeldOutputSummary;
  /** Resource limits in force and how (cgroup-v1, cgroup-v2, prlimit, none). */
  limits?: Record<string, number>;
  enforcedBy?: string;
  /** A dead backend: how it ended (reason; a limit's own words in cause). */
  lastExit?: { reason: string; cause?: string; exitCode: number | null; signal: string | null };
  /** A pod backend's pod, "namespace/name" (its pid is a local stand-in's). */
  pod?: string;
  /** A pod backend: phase, restarts and node as the fleet's watch last saw them (no metrics-server: no memory or CPU). */
  podStatus?: { phase?: string; restarts: number; node?: string };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True for anything shaped like a BackendRecord (the manager's answers are not typed at runtime). */
function isRecord(v: unknown): v is ListedRecord {
  return isObject(v) && typeof v.kernelId === 'string' && typeof v.pid === 'number' && isObject(v.requirement);
}

/** The record in an answer that is a record or a handle ({record, connection}). */
export function recordOf(result: unknown): ListedRecord | undefined {
  if (isRecord(result)) return result;
  if (isObject(result) && isRecord(result.record)) return result.record;
  return undefined;
}

/**
 * Records in any answer: a record, a handle, an array of either, or an object holding such an
 * array under some key ({stopped: [...]}, {removed: [...]}).
 */
export function recordsIn(result: unknown): ListedRecord[] {
  const one = recordOf(result);
  if (one) return [one];
  if (Array.isArray(result)) return result.map(recordOf).filter((r): r is ListedRecord => r !== undefined);
  if (isObject(result)) {
    for (const value of Object.values(result)) {
      if (Array.isArray(value)) {
        const found = recordsIn(value);
        if (found.length > 0) return found;
      }
    }
  }
  return [];
}

/** Copy only the known, non-secret fields; `rss` fills in memory the manager did not report. */
export function publicRecord(r: ListedRecord, now: number, rss?: number): PublicRecord {
  const req = r.requirement;
  const out: PublicRecord = {
    kernelId: r.kernelId,
    pid: r.pid,
    requirement: { runtime: String(req.runtime), provider: String(req.provider), ...(req.group !== undefined ? { group: String(req.group) } : {}) },
    state: String(r.state),
    interruptMode: String(r.interruptMode),
    connectionFile: String(r.connectionFile),
    logFile: String(r.logFile),
    ip: String(r.ip),
    ports: Array.isArray(r.ports) ? r.ports.filter((p) => typeof p === 'number') : [],
    startedAt: r.startedAt,
    uptimeMs: Math.max(0, now - r.startedAt),
    clients: Array.isArray(r.attached) ? r.attached.length : 0,
    attached: Array.isArray(r.attached) ? r.attached.map((a) => ({ routerId: String(a.routerId), pid: Number(a.pid) })) : [],
  };
  if (typeof r.idleSince === 'number') out.idleSince = r.idleSince;
  const bytes = typeof r.rssBytes === 'number' ? r.rssBytes : rss;
  if (bytes !== undefined) out.rssBytes = bytes;
  if (typeof r.cpuPercent === 'number' && Number.isFinite(r.cpuPercent)) out.cpuPercent = r.cpuPercent;
  const held = r.heldOutput;
  if (isObject(held)) {
    out.heldOutput = { subscribed: held.subscribed === true, messages: Number(held.messages), bytes: Number(held.bytes), dropped: Number(held.dropped), finished: held.finished === true };
  }
  if (isObject(r.limits)) out.limits = Object.fromEntries(Object.entries(r.limits).filter((e): e is [string, number] => typeof e[1] === 'number'));
  if (typeof r.enforcedBy === 'string') out.enforcedBy = r.enforcedBy;
  if (isObject(r.kube) && typeof r.kube.namespace === 'string' && typeof r.kube.pod === 'string') out.pod = `${r.kube.namespace}/${r.kube.pod}`;
  const ps = r.podStatus;
  if (isObject(ps) && typeof ps.restarts === 'number') {
    out.podStatus = { restarts: ps.restarts, ...(typeof ps.phase === 'string' ? { phase: ps.phase } : {}), ...(typeof ps.node === 'string' ? { node: ps.node } : {}) };
  }
  const exit = r.lastExit;
  if (isObject(exit) && typeof exit.reason === 'string') {
    out.lastExit = {
      reason: exit.reason,
      exitCode: typeof exit.exitCode === 'number' ? exit.exitCode : null,
      signal: typeof exit.signal === 'string' ? exit.signal : null,
      ...(typeof exit.cause === 'string' ? { cause: exit.cause } : {}),
    };
  }
  return out;
}

const LIST_HEADERS = ['ID', 'PID', 'RUNTIME', 'PROVIDER', 'PORTS', 'CLIENTS', 'UPTIME', 'CPU', 'MEMORY', 'STATE'] as const;

/** Table cells for `list`; a GROUP column appears only when some backend has a group. */
export function listTable(records: readonly PublicRecord[]): { headers: string[]; rows: string[][] } {
  const grouped = records.some((r) => r.requirement.group !== undefined);
  const headers: string[] = [...LIST_HEADERS];
  if (grouped) headers.splice(4, 0, 'GROUP');
  const rows = records.map((r) => {
    const row = [
      r.kernelId,
      // A pod backend's process is in its pod: the pod stands where the pid would.
      r.pod !== undefined && r.podStatus?.node !== undefined ? `${r.pod} on ${r.podStatus.node}` : (r.pod ?? String(r.pid)),
      r.requirement.runtime,
      r.requirement.provider,
      formatPorts(r.ports),
      String(r.clients),
      formatUptime(r.uptimeMs),
      formatCpu(r.cpuPercent),
      formatBytes(r.rssBytes),
      // A dead one says how it ended: "dead (memory-limit)".
      // A pod says its phase when it is not Running, and restarts (restartPolicy Never: a surprise).
      r.lastExit !== undefined ? `${r.state} (${r.lastExit.reason})` : `${r.state}${podNote(r.podStatus)}`,
    ];
    if (grouped) row.splice(4, 0, r.requirement.group ?? UNKNOWN);
    return row;
  });
  return { headers, rows };
}

function podNote(ps: PublicRecord['podStatus']): string {
  if (ps === undefined) return '';
  const notes = [...(ps.phase !== undefined && ps.phase !== 'Running' ? [`pod ${ps.phase}`] : []), ...(ps.restarts > 0 ? [`${ps.restarts} restart${ps.restarts === 1 ? '' : 's'}`] : [])];
  return notes.length === 0 ? '' : ` (${notes.join(', ')})`;
}

/** Pure: CPU % as top shows it (100% = one core), one decimal below 10. */
export function formatCpu(percent: number | undefined): string {
  if (percent === undefined) return UNKNOWN;
  return `${percent < 10 ? percent.toFixed(1) : percent.toFixed(0)}%`;
}

export function isHealthy(h: HealthReport): boolean {
  return h.processAlive && h.heartbeat;
}

const HEALTH_HEADERS = ['ID', 'PID', 'PROCESS', 'HEARTBEAT', 'LATENCY', 'STATUS'] as const;

export function healthTable(reports: readonly HealthReport[]): { headers: string[]; rows: string[][] } {
  const rows = reports.map((h) => [
    h.kernelId,
    String(h.pid),
    h.processAlive ? 'alive' : 'dead',
    h.heartbeat ? 'ok' : 'no reply',
    h.heartbeat ? formatLatency(h.heartbeatMs) : UNKNOWN,
    isHealthy(h) ? 'OK' : 'FAIL',
  ]);
  return { headers: [...HEALTH_HEADERS], rows };
}

/** Only the known fields of each report, for --json. */
export function publicHealth(h: HealthReport): HealthReport & { healthy: boolean } {
  return {
    kernelId: String(h.kernelId),
    pid: Number(h.pid),
    processAlive: Boolean(h.processAlive),
    heartbeat: Boolean(h.heartbeat),
    ...(typeof h.heartbeatMs === 'number' ? { heartbeatMs: h.heartbeatMs } : {}),
    healthy: isHealthy(h),
  };
}

/** Health reports in an answer: an array, or an object holding one ({backends: [...]}). */
export function healthReportsIn(result: unknown): HealthReport[] {
  const ok = (v: unknown): v is HealthReport => isObject(v) && typeof v.kernelId === 'string' && typeof v.processAlive === 'boolean';
  if (Array.isArray(result)) return result.filter(ok);
  if (isObject(result)) {
    for (const value of Object.values(result)) if (Array.isArray(value) && value.some(ok)) return value.filter(ok);
  }
  return [];
}

/** `spawn`'s human output: what a user needs to attach to the new backend. */
export function backendFields(r: PublicRecord): string {
  const fields: [string, string][] = [
    ['id', r.kernelId],
    ['pid', String(r.pid)],
    ['runtime', r.requirement.runtime],
    ['provider', r.requirement.provider],
  ];
  if (r.requirement.group !== undefined) fields.push(['group', r.requirement.group]);
  fields.push(['ports', formatPorts(r.ports)], ['connection file', r.connectionFile], ['log file', r.logFile]);
  return formatFields(fields);
}

/** `stop`/`stop-all` (answer `{stopped: BackendRecord[]}`): one line per stopped backend. */
export function stoppedLines(result: unknown): string {
  const records = recordsIn(result);
  if (records.length === 0) return 'nothing to stop\n';
  return records.map((r) => `stopped ${r.kernelId} (pid ${r.pid})\n`).join('');
}

/** `--json` of stop/stop-all: the stopped backends as public records. */
export function publicStopped(result: unknown, now: number): { stopped: PublicRecord[] } {
  return { stopped: recordsIn(result).map((r) => publicRecord(r, now)) };
}

function filesIn(result: unknown, key: 'files' | 'containers' | 'pods' = 'files'): string[] {
  const files = isObject(result) ? result[key] : undefined;
  return Array.isArray(files) ? files.filter((f): f is string => typeof f === 'string') : [];
}

/** `cleanup` (answer `{removed: BackendRecord[], files: string[]}`): what was forgotten and deleted. */
export function cleanupLines(result: unknown): string {
  const removed = isObject(result) ? recordsIn(result.removed) : [];
  const files = filesIn(result);
  const containers = filesIn(result, 'containers');
  const pods = filesIn(result, 'pods');
  if (removed.length === 0 && files.length === 0 && containers.length === 0 && pods.length === 0) return 'nothing to clean up\n';
  return [
    ...removed.map((r) => `forgot ${r.kernelId} (pid ${r.pid} is gone)\n`),
    ...containers.map((c) => `removed container ${c}\n`),
    ...pods.map((p) => `deleted ${p}\n`),
    ...files.map((f) => `deleted ${f}\n`),
  ].join('');
}

export function publicCleanup(result: unknown, now: number): { removed: PublicRecord[]; files: string[]; containers: string[]; pods?: string[] } {
  const removed = isObject(result) ? recordsIn(result.removed) : [];
  const pods = filesIn(result, 'pods');
  return { removed: removed.map((r) => publicRecord(r, now)), files: filesIn(result), containers: filesIn(result, 'containers'), ...(pods.length > 0 ? { pods } : {}) };
}

/** The record a `stop`/`logs` target names: by exact id, or by any of its ports. */
export function findTarget<R extends Pick<BackendRecord, 'kernelId' | 'ports'>>(records: readonly R[], target: StopTarget): R | undefined {
  if (target.kind === 'id') return records.find((r) => r.kernelId === target.id);
  return records.find((r) => Array.isArray(r.ports) && r.ports.includes(target.port));
}
