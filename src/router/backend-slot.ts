import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { RejectReason, WireMessage } from '../wire/codec.js';
import { BackendLink, type RequestChannel } from './backend-link.js';
import type { BackendDirectory, BackendLease, RequirementRef } from './types.js';

export type SlotState = 'starting' | 'ready' | 'failed' | 'closed';

export function requirementKey(r: RequirementRef): string {
  return `${r.runtime}/${r.provider}${r.group ? `#${r.group}` : ''}`;
}

export interface SlotEvents {
  onClientBound(slot: BackendSlot, channel: RequestChannel, msg: WireMessage): void;
  onIopub(slot: BackendSlot, msg: WireMessage): void;
  onRejected(channel: string, reason: RejectReason): void;
  /** A request that can no longer be served by this slot (it failed to start). */
  onUnserved(slot: BackendSlot, channel: RequestChannel, msg: WireMessage): void;
  onReady(slot: BackendSlot): void;
  onFailed(slot: BackendSlot, reason: string): void;
  onExited(slot: BackendSlot, reason: string): void;
  /** The shared backend is being replaced by a restart another client asked for. */
  onRestarting?(slot: BackendSlot): void;
}

export interface SlotOptions {
  requirement: RequirementRef;
  directory: BackendDirectory;
  logger: Logger;
  events: SlotEvents;
  maxPending?: number;
  maxMessageBytes?: number;
}

/**
 * One backend as seen by one router: its lease, its link and the requests waiting for it. A
 * router holds one slot per requirement its clients have asked for; requests for a slot that is
 * still starting wait here, in order, so no client times out and nothing is reordered.
 */
export class BackendSlot {
  readonly key: string;
  readonly requirement: RequirementRef;
  state: SlotState = 'starting';
  lease: BackendLease | undefined;
  link: BackendLink | undefined;
  failure: string | undefined;
  /** Requests the backend has taken and not finished (status busy/idle), for interrupts. */
  busy = false;
  #pending: { channel: RequestChannel; msg: WireMessage }[] = [];
  readonly #abort = new AbortController();
  #closing: Promise<void> | undefined;
  #settle!: () => void;
  /** Resolves once the slot is ready or has failed. */
  readonly settled = new Promise<void>((resolve) => (this.#settle = resolve));

  constructor(private readonly options: SlotOptions) {
    this.requirement = options.requirement;
    this.key = requirementKey(options.requirement);
  }

  /** Acquire the backend and connect; resolves when ready or failed, never rejects. */
  async start(): Promise<void> {
    const { events } = this.options;
    try {
      const lease = await this.options.directory.acquire(this.requirement, { signal: this.#abort.signal });
      if (this.state === 'closed') {
        await lease.release({ stop: false });
        return;
      }
      this.#attach(lease);
      lease.onReplaced?.((next) => void this.#replace(next));
      await this.link!.handshake(this.#abort.signal);
      if (this.state !== 'starting') return;
      this.state = 'ready';
      this.options.logger.info({ backend: lease.kernelId, pid: lease.pid, pending: this.#pending.length }, 'backend ready');
      events.onReady(this);
      for (const { channel, msg } of this.#pending.splice(0)) this.link!.forward(channel, msg);
      this.#settle();
    } catch (error) {
      if (this.state === 'closed') return;
      this.state = 'failed';
      this.failure = describeError(error);
      this.options.logger.error({ requirement: this.key, reason: this.failure }, 'backend unavailable');
      events.onFailed(this, this.failure);
      for (const { channel, msg } of this.#pending.splice(0)) events.onUnserved(this, channel, msg);
      this.#settle();
    }
  }

  /** Send now, hold until ready, or hand back as unserved. Returns false if held-queue is full. */
  submit(channel: RequestChannel, msg: WireMessage): boolean {
    switch (this.state) {
      case 'ready':
        this.link!.forward(channel, msg);
        return true;
      case 'starting':
        if (this.#pending.length >= (this.options.maxPending ?? 10_000)) return false;
        this.#pending.push({ channel, msg });
        return true;
      default:
        this.options.events.onUnserved(this, channel, msg);
        return true;
    }
  }

  /** Interrupt in the backend's own mode. */
  interrupt(): void {
    if (this.state !== 'ready' || !this.lease) return;
    if (this.lease.interruptMode === 'signal') this.lease.interrupt();
    else this.link?.request('control', 'interrupt_request', {});
  }

  /** Close the link and give the backend back; `stop` stops it (no one else can be using it). */
  close(options: { stop: boolean; politeShutdown?: boolean }): Promise<void> {
    return (this.#closing ??= this.#close(options));
  }

  async #close({ stop, politeShutdown }: { stop: boolean; politeShutdown?: boolean }): Promise<void> {
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.#abort.abort(new Error('router closing'));
    const lease = this.lease;
    if (lease && stop && politeShutdown && wasReady && this.link) {
      // A polite shutdown first (ipykernel cleans up); the lease's kill ladder covers kernels that ignore it.
      this.link.request('control', 'shutdown_request', { restart: false });
      await Promise.race([lease.exited, delay(1000)]);
    }
    this.link?.close();
    if (lease) await lease.release({ stop }).catch((error) => this.options.logger.error({ err: describeError(error) }, 'backend release failed'));
  }

  /**
   * Another router restarted the shared backend: switch to the new process. Requests wait
   * (in order) while the new one gets ready, exactly as during the first start.
   */
  async #replace(next: BackendLease): Promise<void> {
    if (this.state === 'closed') {
      await next.release({ stop: false });
      return;
    }
    this.options.logger.info({ from: this.lease?.kernelId, to: next.kernelId }, 'backend replaced by a restart');
    this.link?.close();
    this.state = 'starting';
    this.busy = false;
    this.options.events.onRestarting?.(this);
    this.#attach(next);
    next.onReplaced?.((n) => void this.#replace(n));
    try {
      await this.link!.handshake(this.#abort.signal);
      if (this.state !== 'starting' || this.lease !== next) return;
      this.state = 'ready';
      this.options.events.onReady(this);
      for (const { channel, msg } of this.#pending.splice(0)) this.link!.forward(channel, msg);
    } catch (error) {
      if ((this.state as SlotState) === 'closed') return;
      this.state = 'failed';
      this.failure = describeError(error);
      this.options.events.onFailed(this, this.failure);
      for (const { channel, msg } of this.#pending.splice(0)) this.options.events.onUnserved(this, channel, msg);
    }
  }

  #attach(lease: BackendLease): void {
    const { events } = this.options;
    this.lease = lease;
    void lease.exited.then((exit) => {
      if (this.state === 'closed' || this.lease !== lease) return;
      this.state = 'failed';
      this.failure = `the ${this.key} backend (pid ${lease.pid}) ${exit.reason}`;
      events.onExited(this, exit.reason);
    });
    this.link = new BackendLink({
      lease,
      logger: this.options.logger.child({ backend: lease.kernelId }),
      maxMessageBytes: this.options.maxMessageBytes,
      onClientBound: (channel, msg) => events.onClientBound(this, channel, msg),
      onIopub: (msg) => {
        if (msg.msgType === 'status') this.busy = msg.content<{ execution_state?: string }>().execution_state === 'busy';
        events.onIopub(this, msg);
      },
      onRejected: (channel, reason) => events.onRejected(channel, reason),
      onHeartbeat: (ok) => this.options.logger.info({ backend: lease.kernelId, responsive: ok }, 'backend heartbeat changed'),
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
