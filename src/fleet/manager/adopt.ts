/**
 * Manager start after a crash or restart: take over the backends of the registry that still
 * run (same pid AND same start time), forget the dead ones and their connection files.
 */
import { readFile } from 'node:fs/promises';
import type { Logger } from '../../shared/log.js';
import { parseConnectionInfo, type ConnectionInfo } from '../../wire/connection-file.js';
import { LimitEnforcement } from '../limits/enforce.js';
import { ManagedBackend, removeConnectionFile } from './entry.js';
import { killGroup, procStartTime } from './proc.js';
import type { BackendRecord } from './protocol.js';
import { decideAdoption, readRegistry } from './registry.js';

export interface Adoption {
  adopted: { backend: ManagedBackend; record: BackendRecord }[];
  forgotten: { kernelId: string; reason: string }[];
}

export async function adoptFromRegistry(home: string, options: { pollMs: number; logger: Logger; env?: Record<string, string | undefined> }): Promise<Adoption> {
  const log = options.logger;
  const read = await readRegistry(home);
  if (read.problem !== undefined) log.warn({ problem: read.problem }, 'registry only partly usable');
  const result: Adoption = { adopted: [], forgotten: [] };
  for (const record of read.records) {
    const procStart = procStartTime(record.pid);
    const decision = decideAdoption(record, { alive: procStart !== undefined, procStart });
    if (decision.action === 'forget') {
      if (decision.removeFiles) await removeConnectionFile(home, record.connectionFile, undefined);
      // Certainly not running as ours: its cgroup (if it had one) is litter.
      if (decision.removeFiles && record.limits !== undefined) await LimitEnforcement.discard({ kernelId: record.kernelId, env: options.env ?? process.env, logger: log });
      log.info({ kernelId: record.kernelId, backendPid: record.pid, reason: decision.reason }, 'forgot a registry entry');
      result.forgotten.push({ kernelId: record.kernelId, reason: decision.reason });
      continue;
    }
    const connection = await connectionOf(record);
    if (connection === undefined) {
      // Ours and running, but nobody can ever connect to it again: stop it rather than leak it.
      killGroup(record.pid, 'SIGTERM', record.procStart);
      log.warn({ kernelId: record.kernelId, backendPid: record.pid }, 'adoptable backend lost its connection file; sent SIGTERM');
      result.forgotten.push({ kernelId: record.kernelId, reason: 'no-connection-file' });
      continue;
    }
    const backend = ManagedBackend.adopted(
      {
        kernelId: record.kernelId,
        pid: record.pid,
        procStart: record.procStart,
        requirement: record.requirement,
        interruptMode: record.interruptMode,
        connectionFile: record.connectionFile,
        logFile: record.logFile,
        startedAt: record.startedAt,
        connection,
        state: 'ready',
        ...(record.cwd !== undefined ? { cwd: record.cwd } : {}),
        ...(record.container !== undefined ? { container: record.container } : {}),
        ...(record.kube !== undefined ? { kube: record.kube } : {}),
        ...(record.spare !== undefined ? { spare: record.spare } : {}),
        ...(record.limits !== undefined ? { limits: record.limits } : {}),
      },
      home,
      options.pollMs,
      // Its cgroup outlived the old manager: found again, its limits are watched and its death judged as before.
      record.limits === undefined
        ? undefined
        : await LimitEnforcement.adopt({ kernelId: record.kernelId, pid: record.pid, limits: record.limits, env: options.env ?? process.env, logger: log }),
      log,
    );
    log.info({ kernelId: record.kernelId, backendPid: record.pid }, 'adopted a running backend');
    result.adopted.push({ backend, record });
  }
  return result;
}

/** The backend's connection info (with its key), if its file is still the one with its ports. */
async function connectionOf(record: BackendRecord): Promise<ConnectionInfo | undefined> {
  try {
    const info = parseConnectionInfo(await readFile(record.connectionFile, 'utf8'), record.connectionFile);
    const ports = [info.shell_port, info.iopub_port, info.stdin_port, info.control_port, info.hb_port];
    return ports.every((p, i) => p === record.ports[i]) ? info : undefined;
  } catch {
    return undefined;
  }
}
