/** The lease a FleetDirectory hands a router, and small pure helpers around it. */
import type { ConnectionInfo } from '../wire/connection-file.js';
import type { ListedBackend } from './manager/protocol.js';
import type { InterruptMode, Requirement } from './types.js';

export interface LeaseExit {
  exitCode: number | null;
  signal: string | null;
  reason: string;
}

export interface FleetLease {
  readonly kernelId: string;
  readonly pid: number;
  readonly connection: ConnectionInfo;
  readonly interruptMode: InterruptMode;
  readonly requirement: Requirement;
  readonly exited: Promise<LeaseExit>;
  readonly shared: true;
  interrupt(): void;
  release(options?: { stop: boolean }): Promise<void>;
  restart(): Promise<void>;
  onReplaced(listener: (next: FleetLease) => void): void;
}

/** One backend as `%llmspell list` shows it (the router's FleetEntry shape). */
export interface FleetListEntry {
  kernelId: string;
  pid: number;
  runtime: string;
  provider: string;
  group?: string;
  state: string;
  clients: number;
}

/** Pure: a listed record as the router shows it. */
export function fleetEntry(r: ListedBackend): FleetListEntry {
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
