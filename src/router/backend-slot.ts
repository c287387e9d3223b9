import { setTimeout as wait } from 'node:timers/promises';
import { describeError } from '../shared/errors.js';
import { describeExit } from '../shared/exit.js';
import { RUNNING_CELLS_MAX, type DetachedOutput } from '../shared/detached-output.js';
import { startupMark } from '../shared/startup-trace.js';
import type { WireMessage } from '../wire/codec.js';
import { BackendLink, type RequestChannel } from './backend-link.js';
import { runningCells } from './replay.js';
import { backendCondition, type BackendCondition } from '../shared/backend-state.js';
import { BusyTracker } from './busy.js';
import { InFlightRequests } from './in-flight.js';
import { HeartbeatSilence } from './heartbeat-silence.js';
import { startFailure } from './notices.js';
import { RelayCounts, TO_BACKEND, TO_CLIENT } from '../shared/relay-counts.js';
import { payloadBytes, replyStatus } from './relay-meter.js';
import { requirementKey, type Requirement as RequirementRef } from '../shared/requirement.js';
import type { BackendLease } from './types.js';
import type { SlotOptions, SlotState } from './slot-events.js';

export type { SlotEvents, SlotOptions, SlotState } from './slot-events.js';

/**
 * One backend as seen by one router: its lease, its link and the requests waiting for it. A
 * router holds one slot per requirement its clients have asked for; requests for a slot that is
 * still starting wait here, in order, so no client times out and nothing is reordered.
 */
export class BackendSlot {
  readonly key: string;
  readonly requirement: RequirementRef;
  state: SlotState = 'starting';
  /** When it began to start: cells that wait are told how long it took. */
  readonly startedAt = Date.now();
  lease: BackendLease | undefined;
  link: BackendLink | undefined;
  failure: string | undefined;
  #pending: { channel: RequestChannel; msg: WireMessage }[] = [];
  /** Requests the backend has and has not answered yet: answered by the router if it dies (in-flight.ts). */
  readonly #inFlight = new InFlightRequests();
  /** What is relayed for the current lease (the fleet reports it); a throwaway when the directory takes no counts. */
  #relay = new RelayCounts();
  readonly #abort = new AbortController();
  #closing: Promise<void> | undefined;
  /** Whether clients were told the heartbeat went silent (heartbeat-silence.ts). */
  readonly #silence = new HeartbeatSilence();
  /** Output the backend printed before we attached, shown with the first cell (then forgotten). */
  #replay: DetachedOutput | undefined;
  /** Starting in place of a backend that died or was restarted. */
  #restarting: boolean;
  #busy = new BusyTracker();
  #settle!: () => void;
  #hasSettled = false;
  /** Resolves once the slot is ready or has failed. */
  readonly settled = new Promise<void>((resolve) => (this.#settle = resolve)).then(() => void (this.#hasSettled = true));

  /** True once the first start is over (ready or failed): a later 'starting' is a switch to a restarted backend. */
  get hasSettled(): boolean {
    return this.#hasSettled;
  }

  constructor(private readonly options: SlotOptions) {
    this.requirement = options.requirement;
    this.key = requirementKey(options.requirement);
    this.#restarting = options.restart ?? false;
  }

  /** What status and list say of this backend right now. */
  get condition(): BackendCondition {
    const lifecycle = this.state === 'starting' ? 'starting' : this.state === 'ready' ? 'ready' : 'exited';
    return backendCondition({ lifecycle, restart: this.#restarting, busy: this.#busy.busy });
  }

  /** Acquire the backend and connect; resolves when ready or failed, never rejects. */
  async start(): Promise<void> {
    const { events } = this.options;
    try {
      const lease = await this.options.directory.acquire(this.requirement, { signal: this.#abort.signal });
      startupMark('acquired');
      if (this.state === 'closed') {
        await lease.release({ stop: false });
        return;
      }
      this.#attach(lease);
      // Taken now, while the handshake runs: the manager hands it to the first router that asks.
      const kept = lease.takeDetachedOutput?.();
      lease.onReplaced?.((next) => void this.#replace(next));
      // A backend that dies before it is ready failed to start: no handshake retries forever.
      const died = new AbortController();
      void lease.exited.then((exit) => died.abort(new Error(startFailure(this.key, lease.pid, exit))));
      await this.link!.handshake(AbortSignal.any([this.#abort.signal, died.signal]));
      this.#replay = await kept;
      if (this.state !== 'starting') return;
      this.state = 'ready';
      this.#restarting = false;
      startupMark('ready');
      this.options.logger.info({ backend: lease.kernelId, pid: lease.pid, pending: this.#pending.length }, 'backend ready');
        for (const { channel, msg } of this.#pending.splice(0)) this.#forward(channel, msg);
      this.#settle();
    } catch (error) {
      if (this.state === 'closed') return;
      this.state = 'failed';
      this.failure = describeError(error);
      this.options.logger.error({ requirement: this.key, reason: this.failure }, 'backend unavailable');
      events.onFailed(this, this.failure);
      for (const { channel, msg } of this.#pending.splice(0)) events.onUnserved(this, channel, msg);
      // A backend acquired but never ready is given back now: the router keeps this slot only to answer
      // with its reason, and an attachment kept until the router exits would hold the backend past
      // linger and the manager awake.
      this.#closing ??= this.#releaseFailed();
      this.#settle();
    }
  }

  /** Send now, hold until ready, or hand back as unserved. Returns false if held-queue is full. */
  submit(channel: RequestChannel, msg: WireMessage): boolean {
    switch (this.state) {
      case 'ready':
        this.#forward(channel, msg);
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

  #forward(channel: RequestChannel, msg: WireMessage): void {
    if (this.#replay !== undefined && channel === 'shell' && msg.msgType === 'execute_request') {
      const replay = this.#replay;
      this.#replay = undefined;
      this.options.events.onReplay?.(this, replay, msg);
    }
    this.#inFlight.sent(channel, msg);
    this.#relay.relayed(TO_BACKEND[channel], payloadBytes(msg));
    this.link!.forward(channel, msg);
  }

  /** True while this router's clients have code running there: what an interrupt may stop. */
  get running(): boolean {
    return this.#inFlight.running;
  }

  /** The header of this router's cell running there now: the oldest execute_request not answered (a kernel runs one at a time). */
  get runningCell(): object | undefined {
    return this.#inFlight.runningCell;
  }

  /** Hand back what the backend took and will never answer (it died): each gets an error reply. */
  takeInFlight(): { channel: RequestChannel; msg: WireMessage }[] {
    return this.#inFlight.takeAll();
  }

  /** A message dropped on the client side, counted against this backend (the one it was for). */
  countDrop(reason: string): void {
    this.#relay.dropped(reason);
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

  async #releaseFailed(): Promise<void> {
    this.link?.close();
    await this.lease?.release({ stop: false }).catch((error) => this.options.logger.error({ err: describeError(error) }, 'backend release failed'));
  }

  async #close({ stop, politeShutdown }: { stop: boolean; politeShutdown?: boolean }): Promise<void> {
    const wasReady = this.state === 'ready';
    this.state = 'closed';
    this.#abort.abort(new Error('router closing'));
    const lease = this.lease;
    if (lease && stop && politeShutdown && wasReady && this.link) {
      // A polite shutdown first (ipykernel cleans up); the lease's kill ladder covers kernels that ignore it.
      this.link.request('control', 'shutdown_request', { restart: false });
      await Promise.race([lease.exited, wait(1000, undefined, { ref: false })]);
    }
    this.link?.close();
    // Cells still running there: whoever sees their output after we leave is told which cells they were.
    const running = stop ? [] : runningCells(this.#inFlight.messages()).slice(-RUNNING_CELLS_MAX);
    if (lease) await lease.release({ stop, ...(running.length > 0 ? { running } : {}) }).catch((error) => this.options.logger.error({ err: describeError(error) }, 'backend release failed'));
  }

  /**
   * Another router restarted the shared backend: switch to the new process. Requests wait
   * (in order) while the new one gets ready, exactly as during the first start.
   */
  async #replace(next: BackendLease): Promise<void> {
    if (this.state === 'closed' || this.state === 'failed') {
      await next.release({ stop: false });
      return;
    }
    this.options.logger.info({ from: this.lease?.kernelId, to: next.kernelId }, 'backend replaced by a restart');
    this.link?.close();
    this.state = 'starting';
    this.#restarting = true;
    this.options.events.onRestarting?.(this);
    this.#attach(next);
    next.onReplaced?.((n) => void this.#replace(n));
    try {
      await this.link!.handshake(this.#abort.signal);
      if (this.state !== 'starting' || this.lease !== next) return;
      this.state = 'ready';
      this.#restarting = false;
      for (const { channel, msg } of this.#pending.splice(0)) this.#forward(channel, msg);
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
    this.#relay = lease.relayCounts ?? new RelayCounts();
    this.#silence.reset();
    this.#busy = new BusyTracker();
    void lease.exited.then((exit) => {
      // While starting, start() reports it as a failure to start (no restart loop).
      if (this.state === 'closed' || this.state === 'starting' || this.lease !== lease) return;
      this.state = 'failed';
      const how = describeExit(exit);
      this.failure = `the ${this.key} backend (pid ${lease.pid}) ${how}`;
      events.onExited(this, how, exit);
    });
    lease.onWarning?.((text) => {
      if (this.lease === lease && this.state !== 'closed') events.onWarning?.(this, text);
    });
    this.link = new BackendLink({
      lease,
      logger: this.options.logger.child({ backend: lease.kernelId }),
      maxMessageBytes: this.options.maxMessageBytes,
      onClientBound: (channel, msg) => {
        this.#relay.relayed(TO_CLIENT[channel], payloadBytes(msg));
        this.#settleInFlight(channel, msg);
        events.onClientBound(this, channel, msg);
        // A cell that ended while the heartbeat was silent: now the silence means something.
        if (msg.msgType === 'execute_reply') this.#checkHeartbeat(lease);
      },
      onIopub: (msg) => {
        this.#relay.relayed(TO_CLIENT.iopub, payloadBytes(msg));
        if (msg.msgType === 'status') this.#noteStatus(lease, msg);
        return events.onIopub(this, msg);
      },
      iopubRoom: this.options.iopubRoom,
      onRejected: (channel, reason) => {
        this.#relay.dropped(reason);
        events.onRejected(channel, reason);
      },
      onOversized: (channel, msg, bytes) => {
        // The router answers in its place (RouterReplies.backendTooLarge), so it is no longer in flight.
        this.#settleInFlight(channel, msg);
        events.onOversized?.(this, channel, msg, bytes);
      },
      heartbeatTimeoutMs: this.options.heartbeatTimeoutMs,
      onHeartbeat: (ok, silentMs) => {
        this.options.logger.info({ backend: lease.kernelId, responsive: ok, silentMs }, 'backend heartbeat changed');
        this.#checkHeartbeat(lease);
      },
    });
  }

  /** The backend went busy or idle: the fleet hears of it (its `list` shows it). */
  #noteStatus(lease: BackendLease, msg: WireMessage): void {
    if (this.lease !== lease) return;
    let state: unknown;
    try {
      state = msg.content<{ execution_state?: unknown }>().execution_state;
    } catch {
      return; // not JSON: relayed as it is, but it says nothing we can use
    }
    if (this.#busy.status(msg.parentHeader.msg_id, state)) lease.reportExecutionState?.(this.#busy.busy ? 'busy' : 'idle');
  }

  /** A reply (or what stands in for one) ends its request's time in flight. */
  #settleInFlight(channel: RequestChannel | 'iopub', msg: WireMessage): void {
    const seconds = this.#inFlight.settle(channel, msg);
    if (seconds !== undefined) this.#relay.executed(replyStatus(msg), seconds);
  }

  /** A silent heartbeat, or its return, told to clients when it means something (heartbeat-silence.ts). */
  #checkHeartbeat(lease: BackendLease): void {
    const link = this.link;
    if (this.state !== 'ready' || this.lease !== lease || !link) return;
    const change = this.#silence.change(link.heartbeat.responsive, () => this.running);
    if (change === 'silent') this.options.events.onHeartbeat?.(this, false, Date.now() - link.heartbeat.lastReplyAt);
    else if (change === 'back') this.options.events.onHeartbeat?.(this, true, 0);
  }
}

