/**
 * Stopping backends: which ones a `stop` or `interrupt` target names, and one backend's stop
 * as the fleet does it (logged, observers told, settled once it is gone).
 */
import type { Logger } from '../../shared/log.js';
import { FleetError } from '../../shared/errors.js';
import { DEFAULT_STOP_LADDER } from '../../shared/process.js';
import type { ManagedBackend } from './entry.js';
import { maintenance } from './maintenance.js';
import type { BackendRecord } from './protocol.js';

export interface StopHost {
  log: Logger;
  /** stop_grace from the manager's options; the ladder's default when unset. */
  graceMs: number | undefined;
  /** Observers hear that it is stopping before it goes. */
  changed: () => void;
}

export async function stopBackend(host: StopHost, backend: ManagedBackend, why: string): Promise<BackendRecord> {
  host.log.info({ kernelId: backend.kernelId, backendPid: backend.pid, why }, 'stopping backend');
  const stopping = backend.stop({ ...DEFAULT_STOP_LADDER, graceMs: host.graceMs ?? DEFAULT_STOP_LADDER.graceMs }, host.log);
  // It is stopping (or, in a restart, restarting) from now: observers see that before it goes.
  host.changed();
  await stopping;
  await backend.gone;
  return backend.record();
}

/** The backends with kernel id or port `target`; at least one, or an error that says where to look. */
export function matchingBackends(backends: Iterable<ManagedBackend>, target: string): [ManagedBackend, ...ManagedBackend[]] {
  const matches = maintenance.matching(backends, target);
  if (matches.length === 0) {
    throw new FleetError('UNKNOWN_BACKEND', `no backend has the id or port "${target}"; see \`llmspell-fleet list\``, { target });
  }
  return matches as [ManagedBackend, ...ManagedBackend[]];
}
