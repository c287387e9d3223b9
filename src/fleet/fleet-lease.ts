/** The lease a FleetDirectory hands a router, and small pure helpers around it. */
import type { BackendLease, FleetEntry } from '../shared/backend.js';
import type { RunningCell } from '../shared/detached-output.js';
import type { ConnectionInfo } from '../wire/connection-file.js';
import type { ListedBackend } from './manager/protocol.js';

/** A lease on a fleet backend: always shared, restartable for everyone, replaced on restart. */
export interface FleetLease extends BackendLease<ConnectionInfo> {
  readonly shared: true;
  release(options?: { stop: boolean; running?: RunningCell[] }): Promise<void>;
  restart(): Promise<void>;
  onReplaced(listener: (next: FleetLease) => void): void;
}

/** Pure: a listed record as the router shows it. */
export function fleetEntry(r: ListedBackend): FleetEntry {
  return {
    kernelId: r.kernelId,
    pid: r.pid,
    runtime: r.requirement.runtime,
    provider: r.requirement.provider,
    ...(r.requirement.group !== undefined ? { group: r.requirement.group } : {}),
    state: r.state,
    clients: r.attached.length,
  };
}

/** Rejects with the signal's reason as soon as it aborts; the promise itself runs on. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
