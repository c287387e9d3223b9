/**
 * A backend's life in the fleet once it is spawned: recorded, its limits watched, culled when
 * idle too long, and what its end means (dead in `list`, a refill, who is told). FleetManager
 * (fleet.ts, its state in fleet-parts.ts) owns the state; this part reaches it only through
 * the host it is given.
 */
import type { Logger } from '../../shared/log.js';
import type { BackendConditions } from './conditions.js';
import type { FleetCounters } from './counters.js';
import { cullCause, type IdleCulling } from './culling.js';
import type { ManagedBackend, RouterRef } from './entry.js';
import type { FleetExit } from './fleet-options.js';
import type { BackendRecord, ManagerEvent } from './protocol.js';
import type { RelayTotals } from './relay-totals.js';

/** Ends that are the backend's own (or its limits'), shown in `list` as dead for a while. */
// Pod backends add the Kubernetes ends (launchers/kube/reasons.ts podEnd): an OOM kill without a limit, an eviction, a deletion from outside.
const DIED_ON_ITS_OWN = new Set(['exited', 'signalled', 'memory-limit', 'pids-limit', 'cpu-time-limit', 'oom-killed', 'evicted', 'deleted']);

export interface LifecycleHost {
  log: Logger;
  /** The manager is going away: a backend that ends now is neither listed dead nor told about. */
  closed: () => boolean;
  get: (kernelId: string) => ManagedBackend | undefined;
  set: (backend: ManagedBackend) => void;
  delete: (kernelId: string) => void;
  conditions: BackendConditions;
  culling: IdleCulling;
  counters: FleetCounters;
  relay: RelayTotals;
  /** A spare ended: the pool starts another. */
  refillPool: () => void;
  persist: () => void;
  changed: (exit?: FleetExit) => void;
  emit: (event: ManagerEvent, to: readonly RouterRef[]) => void;
  stop: (backend: ManagedBackend, why: string) => Promise<BackendRecord>;
}

export class BackendLifecycle {
  constructor(private readonly host: LifecycleHost) {}

  /** Record a spawned (or adopted) backend, and handle its end once it goes. */
  add(backend: ManagedBackend): void {
    const host = this.host;
    host.set(backend);
    host.persist();
    this.#watchLimits(backend);
    void backend.gone.then((exit) => {
      // The fleet's own reason (culled) over the process's (stopped).
      const gone = { ...exit, ...backend.endedBy };
      host.culling.forget(backend.kernelId);
      // First, so an observer knows why before it sees the backend leave the list.
      host.changed({ kernelId: backend.kernelId, reason: gone.reason, exitCode: gone.exitCode, signal: gone.signal, ...(gone.cause !== undefined ? { cause: gone.cause } : {}) });
      host.counters.exited(gone.reason);
      host.relay.retire(backend.kernelId);
      backend.release();
      if (host.get(backend.kernelId) === backend) host.delete(backend.kernelId);
      host.persist();
      // A backend that died on its own still has a connection file (llmspell never removes it).
      if (!host.closed()) void backend.stop({ graceMs: 0, killMs: 0 }, host.log).catch(() => undefined);
      // A spare nobody took is not a user's loss: it is replaced, not listed as dead.
      const diedOnItsOwn = !backend.replaced && !host.closed() && backend.spare === undefined && DIED_ON_ITS_OWN.has(gone.reason);
      if (backend.spare !== undefined) host.refillPool();
      if (diedOnItsOwn) host.conditions.died(backend.record(), gone);
      else host.conditions.forget(backend.kernelId);
      host.changed();
      if (!backend.replaced && !host.closed()) {
        const event: ManagerEvent = {
          event: 'backend-exited',
          kernelId: backend.kernelId,
          reason: gone.reason,
          exitCode: gone.exitCode,
          signal: gone.signal,
          ...(gone.cause !== undefined ? { cause: gone.cause } : {}),
          // Each router decides whether it was a crash worth showing (shared/exit.ts crashOutput).
          ...(gone.stderrTail ? { stderrTail: gone.stderrTail } : {}),
        };
        host.emit(event, [...backend.attached.values()]);
      }
    });
  }

  /** idle_cull_seconds ran out (culling.ts): stop it, unless it is no longer a ready backend nobody runs a cell on. */
  cull(kernelId: string, cullSeconds: number): void {
    const backend = this.host.get(kernelId);
    if (this.host.closed() || backend === undefined || backend.state !== 'ready' || backend.replaced) return;
    if (this.host.conditions.isBusy(kernelId, backend.attached.keys())) return;
    backend.endedBy = { reason: 'culled', cause: cullCause(cullSeconds) };
    void this.host.stop(backend, 'culled').catch((e: unknown) => this.host.log.error({ kernelId, err: String(e) }, 'cull stop failed'));
  }

  /**
   * Its limits, watched while it runs: a warning for the running cell goes to the routers
   * attached at that moment (the manager is not in the data path; each router tells its own
   * cell), and a backend that used up its cpu_seconds is stopped for that reason.
   */
  #watchLimits(backend: ManagedBackend): void {
    const { log } = this.host;
    const warn = (message: string) => {
      log.warn({ kernelId: backend.kernelId, message }, 'backend near a limit');
      this.host.emit({ event: 'backend-warning', kernelId: backend.kernelId, message }, [...backend.attached.values()]);
    };
    backend.watchLimits({
      onMemoryWarning: warn,
      onPidsLimit: warn,
      onCpuTimeUsedUp: (used) => {
        log.warn({ kernelId: backend.kernelId, usedSeconds: used }, 'backend used up its cpu_seconds; stopping it');
        backend.enforcement?.cpuTimeUsedUp();
        void this.host.stop(backend, 'cpu-time-limit').catch((e: unknown) => log.error({ err: String(e) }, 'cpu-time-limit stop failed'));
      },
    });
  }
}
