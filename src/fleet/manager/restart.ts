/**
 * The restart op: replace a shared backend for everyone attached. FleetManager (fleet.ts)
 * owns the state and keeps concurrent restarts of one backend to one; this part reaches the
 * state only through the host it is given.
 */
import { FleetError, describeError } from '../../shared/errors.js';
import { requirementKey } from '../../shared/requirement.js';
import type { Attachments } from './attachments.js';
import type { FleetCapacity, Reservation } from './capacity.js';
import type { BackendConditions } from './conditions.js';
import type { FleetCounters } from './counters.js';
import type { ManagedBackend, RouterRef } from './entry.js';
import type { SpawnWhere } from './fleet-options.js';
import { handle } from './launch.js';
import type { BackendHandle, BackendRecord, ManagerEvent } from './protocol.js';

export interface RestartHost {
  get: (kernelId: string) => ManagedBackend | undefined;
  conditions: BackendConditions;
  attachments: Pick<Attachments, 'takeAll' | 'attach' | 'idleIfUnused'>;
  capacity: FleetCapacity;
  /** Acquires for the requirement wait for this start (inflight.ts). */
  track: (key: string, start: Promise<ManagedBackend>) => Promise<ManagedBackend>;
  stop: (backend: ManagedBackend, why: string) => Promise<BackendRecord>;
  launch: (requirement: ManagedBackend['requirement'], where: SpawnWhere, replacing: Reservation) => Promise<ManagedBackend>;
  emit: (event: ManagerEvent, to: readonly RouterRef[]) => void;
  counters: FleetCounters;
  /** Waits until the registry records the answer (fleet-parts.ts durable). */
  durable: (value: BackendHandle) => Promise<BackendHandle>;
  /** How long the new backend waits for routers to attach again before its linger applies (ManagedBackend.reattachUntil). */
  reattachGraceMs: () => number;
}

/** Stop it, start one with the same requirement, move the attachments, and tell every other attached router. */
export async function restartBackend(host: RestartHost, kernelId: string, routerId: string | undefined, keys: Record<string, string> | undefined): Promise<BackendHandle> {
  const old = host.get(kernelId);
  if (old === undefined || old.state !== 'ready') throw new FleetError('UNKNOWN_BACKEND', `no running backend ${kernelId} to restart`, { kernelId });
  old.replaced = true;
  host.conditions.restarting(old.kernelId, true);
  const routers = host.attachments.takeAll(old);
  // Before the old one stops: its place passes to the new one, and no other start takes it meanwhile.
  const place = host.capacity.reserve({ max: undefined, requirement: old.requirement, replaces: old });
  let backend: ManagedBackend;
  try {
    backend = await host.track(requirementKey(old.requirement), host.stop(old, 'restart').then(() => host.launch(old.requirement, { cwd: old.init.cwd, keys }, place)));
  } catch (error) {
    host.emit({ event: 'backend-exited', kernelId, reason: `restart failed: ${describeError(error)}` }, routers);
    throw error;
  } finally {
    host.capacity.release(place);
  }
  host.counters.restarted();
  backend.reattachUntil = Date.now() + host.reattachGraceMs();
  for (const r of routers) host.attachments.attach(backend, r);
  host.attachments.idleIfUnused(backend);
  const next = handle(backend);
  host.emit({ event: 'backend-restarted', kernelId, handle: next }, routers.filter((r) => r.routerId !== routerId));
  return host.durable(next);
}
