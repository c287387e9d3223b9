/**
 * The router's BackendDirectory when backends are shared through the fleet manager. It has
 * the router's shape structurally (fleet never imports router). One manager connection per
 * router process is the lease for every backend it holds; if the manager dies, the leases stay
 * valid (the data path never goes through the manager) and the directory reconnects (starting
 * a new manager, which adopts the backends) and re-attaches.
 */
import { providerKeyEnv } from '../shared/provider-keys.js';
import { randomUUID } from 'node:crypto';
import * as v from 'valibot';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BackendExit, BackendUsage, FleetEntry } from '../shared/backend.js';
import { DetachedOutputSchema, type DetachedOutput, type RunningCell } from '../shared/detached-output.js';
import { isFleetError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/log.js';
import type { Requirement } from '../shared/requirement.js';
import { startupMark } from '../shared/startup-trace.js';
import { ManagerClient } from './manager/client.js';
import { isSameProcess, killGroup } from './manager/proc.js';
import type { BackendHandle, BackendRecord, ListedBackend, ManagerEvent } from './manager/protocol.js';
import { fleetEntry, raceAbort, type FleetLease } from './fleet-lease.js';
import { StateReports } from './state-reports.js';
import { RelayReports } from './relay-reports.js';

export type { FleetLease } from './fleet-lease.js';

type Env = Record<string, string | undefined>;

const count = v.pipe(v.number(), v.finite(), v.minValue(0));
/** What the manager's `usage` op answers (operations.ts); checked because the router relays it to clients. */
const BackendUsageSchema = v.object({
  pid: v.pipe(v.number(), v.safeInteger(), v.minValue(1)),
  hostname: v.string(),
  processes: count,
  residentBytes: count,
  cpuPercent: count,
  hostCpuPercent: v.optional(count),
  cpuCount: count,
  hostVirtualMemory: v.optional(v.record(v.string(), count)),
});

export interface FleetDirectoryOptions {
  home: string;
  /** Environment for an autostarted manager, and the provider keys a backend this router starts gets. Default process.env. */
  env?: Env;
  /** The kernel process the manager sees this router as (its attachments end when it is gone). Default process.pid. */
  pid?: number;
  logger?: Logger;
  /** Start a manager when none answers (default true). */
  autostart?: boolean;
  /** Identifies this router to the manager; default a random uuid. */
  routerId?: string;
  /** Working directory for a backend this router's request starts. Default process.cwd() (Jupyter starts kernels where the notebook is). */
  cwd?: string;
  /** How often a held backend's pid is checked, the fallback for a missed exit event. Default 1000. */
  pollMs?: number;
}

interface Held {
  lease: FleetLease;
  record: BackendRecord;
  settle(exit: BackendExit): void;
  replaced: Set<(next: FleetLease) => void>;
  warned: Set<(text: string) => void>;
  poller: NodeJS.Timeout;
}

export type RestartedListener = (oldKernelId: string, handle: BackendHandle, next: FleetLease) => void;

export class FleetDirectory {
  readonly routerId: string;
  readonly #held = new Map<string, Held>();
  /** Held backends the current manager does not know: only their pid tells when they die. */
  readonly #unmanaged = new Set<string>();
  readonly #restarted = new Set<RestartedListener>();
  readonly #log: Logger;
  #client: Promise<ManagerClient> | undefined;
  /** The live connection; a close of any older one is not news. */
  #current: ManagerClient | undefined;
  #closed = false;
  readonly #cwd: string;
  readonly #pid: number;
  readonly #env: Env;
  /** Busy/idle of held backends, for the manager's `list` (state-reports.ts says why and how). */
  readonly #reports = new StateReports({
    send: (kernelId, executionState) => {
      const client = this.#current;
      if (client === undefined || client.isClosed) return false;
      client.request({ op: 'execution-state', kernelId, routerId: this.routerId, executionState }).catch(() => undefined);
      return true;
    },
  });

  /** What routers relay per held backend, for the manager's totals (relay-reports.ts says how). */
  readonly #relay = new RelayReports({
    send: (kernelId, delta) => {
      const client = this.#current;
      if (client === undefined || client.isClosed) return false;
      client.request({ op: 'relay-counts', kernelId, routerId: this.routerId, ...delta }).catch(() => undefined);
      return true;
    },
  });

  constructor(private readonly options: FleetDirectoryOptions) {
    this.routerId = options.routerId ?? randomUUID();
    this.#cwd = options.cwd ?? process.cwd();
    this.#pid = options.pid ?? process.pid;
    this.#env = options.env ?? process.env;
    this.#log = (options.logger ?? silentLogger()).child({ component: 'fleet-directory' });
  }

  /** Aborting stops the wait at once; a backend the manager hands out afterwards is given back. */
  async acquire(requirement: Requirement, { signal }: { signal: AbortSignal }): Promise<FleetLease> {
    signal.throwIfAborted();
    const client = await raceAbort(this.#connection(), signal);
    const pending = client.request<BackendHandle>({ op: 'acquire', requirement, routerId: this.routerId, pid: this.#pid, cwd: this.#cwd, keys: providerKeyEnv(this.#env) }).then((h) => this.#hold(h));
    try {
      return await raceAbort(pending, signal);
    } catch (error) {
      if (signal.aborted) void pending.then((lease) => lease.release(), () => undefined);
      throw error;
    }
  }

  /** The whole fleet, for `%llmspell list` and `status`. */
  async list(): Promise<FleetEntry[]> {
    return (await (await this.#connection()).request<ListedBackend[]>({ op: 'list' })).map(fleetEntry);
  }

  /** Restart a shared backend for everyone attached; this router switches through onReplaced/onRestarted. */
  async restart(kernelId: string): Promise<BackendHandle> {
    const handle = await (await this.#connection()).request<BackendHandle>({ op: 'restart', kernelId, routerId: this.routerId, keys: providerKeyEnv(this.#env) });
    this.#switch(kernelId, handle);
    return handle;
  }

  onRestarted(listener: RestartedListener): () => void {
    this.#restarted.add(listener);
    return () => this.#restarted.delete(listener);
  }

  /** Closing the connection detaches this router everywhere; the backends linger for others. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#reports.close();
    this.#relay.flush();
    this.#relay.close();
    for (const held of this.#held.values()) clearInterval(held.poller);
    this.#held.clear();
    this.#current?.close();
  }

  #hold(handle: BackendHandle): FleetLease {
    const { record, connection } = handle;
    const existing = this.#held.get(record.kernelId);
    if (existing !== undefined) return existing.lease;
    let settle: (exit: BackendExit) => void = () => undefined;
    const exited = new Promise<BackendExit>((resolve) => (settle = resolve));
    const replaced = new Set<(next: FleetLease) => void>();
    const warned = new Set<(text: string) => void>();
    const lease: FleetLease = {
      kernelId: record.kernelId,
      pid: record.pid,
      connection,
      interruptMode: record.interruptMode,
      requirement: record.requirement,
      exited,
      shared: true,
      // Same process group, same incarnation: never signal a reused pid.
      interrupt: () => void killGroup(record.pid, 'SIGINT', record.procStart),
      release: (options) => this.#release(record.kernelId, options?.running),
      restart: async () => void (await this.restart(record.kernelId)),
      onReplaced: (listener) => void replaced.add(listener),
      takeDetachedOutput: () => this.#takeOutput(record.kernelId),
      reportExecutionState: (state) => this.#reports.note(record.kernelId, state),
      relayCounts: this.#relay.countsFor(record.kernelId),
      onWarning: (listener) => void warned.add(listener),
      usage: () => this.#usage(record.kernelId),
    };
    // Only while the manager is unreachable: when it is there, its event says more (exit code,
    // signal) and a restart in progress must not look like a death.
    const poller = setInterval(() => {
      const unwatched = this.#current === undefined || this.#unmanaged.has(record.kernelId);
      if (unwatched && !isSameProcess(record.pid, record.procStart)) {
        this.#settle(record.kernelId, { exitCode: null, signal: null, reason: 'exited' });
      }
    }, this.options.pollMs ?? 1000);
    poller.unref();
    this.#held.set(record.kernelId, { lease, record, settle, replaced, warned, poller });
    return lease;
  }

  /** The manager's kept output for a backend we hold; a wrong-shaped or failed answer counts as none. */
  async #takeOutput(kernelId: string): Promise<DetachedOutput | undefined> {
    try {
      const result = await (await this.#connection()).request<unknown>({ op: 'take-output', kernelId, routerId: this.routerId });
      const checked = v.safeParse(v.object({ output: v.nullable(DetachedOutputSchema) }), result);
      if (!checked.success) throw new Error('the answer has the wrong shape');
      return checked.output.output ?? undefined;
    } catch (error) {
      this.#log.warn({ kernelId, err: String(error) }, 'could not take the output kept while no client was attached');
      return undefined;
    }
  }

  /** The manager's measurement of a backend we hold; undefined when it cannot tell (gone, no manager, an old manager). */
  async #usage(kernelId: string): Promise<BackendUsage | undefined> {
    try {
      const result = await (await this.#connection()).request<unknown>({ op: 'usage', kernelId });
      const checked = v.safeParse(BackendUsageSchema, result);
      if (!checked.success) throw new Error('the answer has the wrong shape');
      return checked.output;
    } catch (error) {
      this.#log.debug({ kernelId, err: String(error) }, 'no usage from the manager');
      return undefined;
    }
  }

  async #release(kernelId: string, running: RunningCell[] = []): Promise<void> {
    const held = this.#held.get(kernelId);
    if (held === undefined) return;
    clearInterval(held.poller);
    this.#held.delete(kernelId);
    this.#reports.forget(kernelId);
    // Before the release, on the same connection: the manager has the router's last counts when it detaches it.
    this.#relay.finish(kernelId);
    // No manager now: the next one has our attachment from the registry, and lets it lapse.
    const client = this.#current;
    if (client === undefined || client.isClosed) return;
    const cells = running.length > 0 ? { cells: running } : {};
    await client.request({ op: 'release', kernelId, routerId: this.routerId, ...cells }).catch((error: unknown) => {
      this.#log.warn({ kernelId, err: String(error) }, 'release not confirmed by the manager');
    });
  }

  #settle(kernelId: string, exit: BackendExit): void {
    const held = this.#held.get(kernelId);
    if (held === undefined) return;
    clearInterval(held.poller);
    this.#held.delete(kernelId);
    this.#reports.forget(kernelId);
    this.#relay.finish(kernelId);
    held.settle(exit);
  }

  /** The old backend was replaced: listeners get a lease on the new one, then the old lease ends. */
  #switch(oldKernelId: string, handle: BackendHandle): void {
    const old = this.#held.get(oldKernelId);
    const next = this.#hold(handle);
    if (old !== undefined) for (const listener of old.replaced) listener(next);
    for (const listener of this.#restarted) listener(oldKernelId, handle, next);
    this.#settle(oldKernelId, { exitCode: null, signal: null, reason: 'restarted' });
  }

  #onEvent(event: ManagerEvent): void {
    if (event.event === 'backend-restarted' && event.handle !== undefined) this.#switch(event.kernelId, event.handle);
    else if (event.event === 'backend-exited') {
      const cause = event.cause !== undefined ? { cause: event.cause } : {};
      const tail = event.stderrTail !== undefined ? { stderrTail: event.stderrTail } : {};
      this.#settle(event.kernelId, { exitCode: event.exitCode ?? null, signal: event.signal ?? null, reason: event.reason ?? 'exited', ...cause, ...tail });
    } else if (event.event === 'backend-warning' && event.message !== undefined) {
      for (const listener of this.#held.get(event.kernelId)?.warned ?? []) listener(event.message);
    }
  }

  #connection(): Promise<ManagerClient> {
    this.#client ??= this.#connect();
    return this.#client;
  }

  async #connect(): Promise<ManagerClient> {
    const client = await ManagerClient.connect({ home: this.options.home, autostart: this.options.autostart ?? true, env: this.options.env });
    startupMark('manager');
    this.#current = client;
    client.onEvent((event) => this.#onEvent(event));
    void client.closed.then(() => {
      if (this.#closed || this.#current !== client) return;
      this.#current = undefined;
      this.#log.warn('fleet manager connection lost; reconnecting (leases stay valid)');
      this.#client = this.#reconnect();
      this.#client.catch(() => undefined);
    });
    return client;
  }

  /** Reconnect (autostarting a manager that adopts our backends) and re-attach what we hold. */
  async #reconnect(): Promise<ManagerClient> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 5000)) {
      if (this.#closed) throw new Error('fleet directory closed');
      try {
        const client = await this.#connect();
        if (this.#closed) {
          client.close();
          throw new Error('fleet directory closed');
        }
        for (const kernelId of [...this.#held.keys()]) {
          await client.request({ op: 'attach', kernelId, routerId: this.routerId, pid: this.#pid }).then(
            () => this.#unmanaged.delete(kernelId),
            (error: unknown) => {
              // The new manager does not know it (it died with the old one, or the registry lost it):
              // no event will come for it, so the pid poll alone ends the lease when it is gone.
              this.#unmanaged.add(kernelId);
              this.#log.warn({ kernelId, code: isFleetError(error) ? error.code : undefined }, 'could not re-attach after reconnecting');
            },
          );
        }
        this.#reports.resend();
        this.#log.info({ held: this.#held.size }, 'reconnected to the fleet manager');
        return client;
      } catch (error) {
        this.#log.warn({ err: String(error), retryInMs: delay }, 'fleet manager unreachable');
        await sleep(delay);
      }
    }
  }
}
