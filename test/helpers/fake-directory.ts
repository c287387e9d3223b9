/**
 * A BackendDirectory for router unit tests. BackendDirectory is the router's own interface
 * (the fleet satisfies it), so this is a fixture, not a mock of anything we integrate with:
 * each acquire is answered by the test with a lease on a KernelPeer, or with an error, and the
 * test decides when that backend "exits".
 */
import type { BackendExit, FleetEntry } from '../../src/shared/backend.js';
import type { Requirement as RequirementRef } from '../../src/shared/requirement.js';
import type { BackendLease, BackendDirectory } from '../../src/router/types.js';
import type { KernelPeer } from './zmq-peers.js';

export interface FakeLease extends BackendLease {
  /** release() calls, in order. */
  readonly releases: { stop: boolean }[];
  /** interrupt() calls (signal mode). */
  interrupts: number;
  /** Make the backend exit (settles `exited`). */
  exit(exit?: Partial<BackendExit>): void;
  /** Another router restarted it: hand the slot `next`. */
  replaceWith(next: BackendLease): void;
}

let nextPid = 50_000;

export function leaseOn(peer: KernelPeer, options: { requirement: RequirementRef; interruptMode?: 'signal' | 'message'; shared?: boolean; restart?: () => Promise<void> }): FakeLease {
  let settle!: (e: BackendExit) => void;
  const exited = new Promise<BackendExit>((r) => (settle = r));
  const replacedListeners: ((next: BackendLease) => void)[] = [];
  const pid = nextPid++;
  const lease: FakeLease = {
    kernelId: `kernel-${pid}`,
    pid,
    connection: peer.info,
    interruptMode: options.interruptMode ?? 'message',
    requirement: options.requirement,
    exited,
    releases: [],
    interrupts: 0,
    ...(options.shared !== undefined ? { shared: options.shared } : {}),
    ...(options.restart ? { restart: options.restart } : {}),
    interrupt() { lease.interrupts++; },
    async release(o) { lease.releases.push(o); },
    onReplaced(listener) { replacedListeners.push(listener); },
    exit(e = {}) { settle({ exitCode: 1, signal: null, reason: 'exited', ...e }); },
    replaceWith(next) { for (const l of replacedListeners) l(next); },
  };
  return lease;
}

interface Pending { requirement: RequirementRef; signal: AbortSignal; resolve(lease: BackendLease): void; reject(error: Error): void }

/** Acquisitions wait in `pending` until the test answers them (or `auto` answers them). */
export class FakeDirectory implements BackendDirectory {
  readonly pending: Pending[] = [];
  readonly acquired: RequirementRef[] = [];
  #waiters: ((p: Pending) => void)[] = [];
  entries: FleetEntry[] | undefined;

  /** Answer every acquire at once with this function's result (a lease or an error). */
  constructor(private readonly auto?: (requirement: RequirementRef) => BackendLease | Error) {}

  acquire(requirement: RequirementRef, options: { signal: AbortSignal }): Promise<BackendLease> {
    this.acquired.push(requirement);
    if (this.auto) {
      const r = this.auto(requirement);
      return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
    }
    return new Promise((resolve, reject) => {
      const p = { requirement, signal: options.signal, resolve, reject };
      const w = this.#waiters.shift();
      if (w) w(p);
      else this.pending.push(p);
    });
  }

  /** The next acquire not yet answered. */
  next(): Promise<Pending> {
    const p = this.pending.shift();
    if (p) return Promise.resolve(p);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async list(): Promise<FleetEntry[]> {
    if (!this.entries) throw new Error('no fleet');
    return this.entries;
  }
}
