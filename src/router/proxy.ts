import { randomUUID } from 'node:crypto';
import { crashOutput, restartsAfter } from '../shared/exit.js';
import type { Logger } from '../shared/log.js';
import type { RejectReason, WireMessage } from '../wire/codec.js';
import { requirementKey, type Requirement as RequirementRef } from '../shared/requirement.js';
import type { RequestChannel } from './backend-link.js';
import { BackendSlot } from './backend-slot.js';
import { CellOrder } from './cell-order.js';
import { StartProgress } from './start-progress.js';
import { RequestDispatcher } from './dispatch.js';
import { Frontend } from './frontend.js';
import { FleetMagics, type MagicsSlot } from './magics.js';
import { RouterReplies } from './own-replies.js';
import { notice } from './notices.js';
import { formatReplay } from './replay.js';
import { statusContent, streamContent } from './replies.js';
import { answerUsage } from './usage-reply.js';
import type { ResolvedRequest, StickyChoice } from './resolver.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type RouterOptions, type RouterState } from './router-options.js';
import { countDrop, emptyStats, type RouterStats } from './stats.js';
import { RestartSupervisor } from './supervisor.js';
import { ValueTransfer } from './values/transfer.js';

export type { RequestResolver, ResolvedRequest, StickyChoice } from './resolver.js';
export type { RouterStats } from './stats.js';

export type { RouterOptions, RouterState } from './router-options.js';

/**
 * ProxyRouter: Jupyter's client talks to it as to a kernel; it relays each request to the
 * backend the request asks for (one slot per requirement) and every backend's iopub to the
 * clients. Named so it does not clash with zeromq's Router socket. It only wires the parts:
 * Frontend (client sockets), RequestDispatcher (who answers a request), BackendSlot (one
 * backend each), RouterReplies (what the router says itself), RestartSupervisor (deaths).
 */
export class ProxyRouter {
  readonly session = randomUUID();
  readonly stats: RouterStats = emptyStats();
  #state: RouterState = 'running';
  readonly #maxMessageBytes: number;
  readonly #frontend: Frontend;
  readonly #log: Logger;
  readonly #slots = new Map<string, BackendSlot>();
  readonly #replies: RouterReplies;
  readonly #dispatcher: RequestDispatcher<BackendSlot>;
  readonly #supervisor: RestartSupervisor<BackendSlot>;
  readonly #magics: FleetMagics;
  /** Cells sent to backends and not ended: status and list wait for those before them. */
  readonly #order = new CellOrder();
  /** "starting … backend…" in the cells that wait for one. */
  readonly #progress: StartProgress;
  /** Slots whose backend died, until a new slot serves their requirement: status shows them restarting or dead. */
  readonly #gone = new Map<string, { slot: BackendSlot; restarting: boolean }>();
  #sticky: StickyChoice | undefined;
  /** What this router last showed of output kept while no client was attached (`%llmspell replay`). */
  #lastReplay: string | undefined;
  /** The requirement of requests that name none (launch layers plus sticky). */
  #default: RequirementRef;
  #stopping: Promise<void> | undefined;

  constructor(private readonly options: RouterOptions) {
    this.#log = options.logger.child({ component: 'router' });
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#default = options.requirement;
    this.#frontend = new Frontend({
      connection: options.connection,
      logger: this.#log,
      maxMessageBytes: this.#maxMessageBytes,
      onRequest: (channel, msg) => this.#dispatcher.request(channel, msg),
      onDropped: (channel, reason) => this.#count(channel, reason),
      onOversized: (channel, msg, bytes) => this.#replies.requestTooLarge(channel, msg, bytes),
      onSubscribe: () => {
        // A new subscriber missed everything before this moment (slow joiner): greet it.
        this.#replies.broadcast('iopub_welcome', { subscription: '' });
        // ...and let it hear each ongoing problem once more.
        this.#replies.forgetNotices();
        if (this.defaultSlot?.state === 'starting') this.#replies.broadcast('status', statusContent('starting'));
      },
    });
    const frontend = this.#frontend;
    const sink = {
      reply: frontend.reply.bind(frontend),
      send: frontend.send.bind(frontend),
      broadcast: (msgType: string, content: object, parentHeader?: object) => {
        frontend.broadcast(msgType, content, parentHeader);
        // The router's own idle after its own reply ends a cell too (a failed one).
        if (msgType === 'status' && (content as { execution_state?: unknown }).execution_state === 'idle') {
          this.#order.ended((parentHeader as { msg_id?: string } | undefined)?.msg_id);
        }
      },
    };
    this.#progress = new StartProgress({ broadcast: (msgType, content, parent) => sink.broadcast(msgType, content, parent) });
    this.#replies = new RouterReplies({ sink, session: this.session, maxMessageBytes: this.#maxMessageBytes, logger: this.#log });
    this.#supervisor = new RestartSupervisor<BackendSlot>({
      replies: this.#replies,
      logger: this.#log,
      policy: options.restartPolicy,
      restart: (slot) => {
        if (this.#state === 'running' && this.#slots.get(slot.key)?.state !== 'ready') this.#slotFor(slot.requirement);
      },
    });
    this.#magics = new FleetMagics({
      directory: options.directory,
      current: () => this.#slotFor(this.#default),
      slots: () => [...this.#slots.values(), ...[...this.#gone.values()].filter((g) => !this.#slots.has(g.slot.key)).map(goneView)],
      earlierCells: () => this.#order.earlier(),
      setSticky: async (choice) => {
        this.#sticky = choice;
        const resolved = await this.#resolve(undefined, {});
        this.#default = resolved.requirement;
        return this.#slotFor(resolved.requirement);
      },
      known: () => this.options.resolver?.known?.() ?? { runtimes: [], providers: [] },
      nextExecutionCount: (request) => this.#replies.ownCellCount(request),
      lastReplay: () => this.#lastReplay,
      values: new ValueTransfer({
        current: () => this.#slotFor(this.#default),
        // The backend `%%llmspell runtime=R provider=P` would pick, with this session's other choices.
        peer: async (choice) => {
          const resolved = await this.#resolve(undefined, {}, { ...this.#sticky, ...choice });
          if (resolved.error) throw new Error(resolved.error);
          return this.#slotFor(resolved.requirement);
        },
      }),
      reply: (channel, request, msgType, content) => this.#replies.reply(channel, request, msgType, content),
      broadcast: (msgType, content, parent) => this.#replies.broadcast(msgType, content, parent),
    });
    this.#dispatcher = new RequestDispatcher<BackendSlot>({
      running: () => this.#state === 'running',
      slotFor: (requirement) => this.#slotFor(requirement),
      // Not a retry: what a client sends by itself (completion and is_complete on every keystroke,
      // kernel_info, history) must not start a backend that just failed again and again.
      defaultSlot: () => this.#slotFor(this.#default, { retryFailed: false }),
      isLive: (slot) => this.#slots.get(slot.key) === slot && slot.state !== 'failed',
      resolve: (code, metadata) => this.#resolve(code, metadata),
      magic: (channel, msg, code) => this.#magics.handle(channel, msg, code),
      completeMagic: (channel, msg) => this.#magics.complete(channel, msg),
      history: (channel, msg) => this.#replies.history(channel, msg),
      usage: (channel, msg) => this.#usage(channel, msg),
      shutdown: (channel, msg, restart) => {
        this.#replies.reply(channel, msg, 'shutdown_reply', { status: 'ok', restart });
        void this.stop(0, restart ? 'restart requested by client' : 'shutdown requested by client', { restart });
      },
      interrupt: (channel, msg) => {
        this.interrupt();
        this.#replies.reply(channel, msg, 'interrupt_reply', { status: 'ok' });
      },
      submit: (channel, original, slot, msg) => {
        this.stats.forwardedToBackend++;
        if (original.msgType === 'execute_request') {
          // The session count is given in dispatch order, before any backend has seen the cell.
          if (channel === 'shell') this.#replies.executionCount(original);
          this.#order.started(original.msgId);
          // Only a first start: a slot switching to a restarted backend has settled before.
          if (slot.state === 'starting' && !slot.hasSettled) this.#progress.waiting(slot, original);
        }
        if (slot.submit(channel, msg)) return;
        this.#count(`frontend.${channel}`, 'PENDING_FULL', slot);
        this.#replies.failed(channel, original, 'too many requests while the backend is starting; try again when it is ready');
      },
      fail: (channel, msg, reason) => this.#replies.failed(channel, msg, reason),
      drop: (channel, reason) => this.#count(channel, reason),
    }, this.#log);
  }

  get state(): RouterState { return this.#state; }
  /** The slot serving requests that name no requirement. */
  get defaultSlot(): BackendSlot | undefined { return this.#slots.get(requirementKey(this.#default)); }

  /** usage_request: about the session's default backend (usage-reply.ts); false leaves it to the backend. */
  #usage(channel: RequestChannel, msg: WireMessage): boolean {
    const slot = this.defaultSlot;
    return answerUsage(slot?.state === 'ready' ? slot.lease : undefined, (content) => {
      if (this.#state === 'running') this.#replies.usage(channel, msg, content);
    });
  }

  /** Binds the client's sockets (throws BIND_FAILED), then starts the launch backend without waiting for it. */
  async start(): Promise<void> {
    await this.#frontend.bind(this.session);
    this.#slotFor(this.options.requirement);
  }

  /**
   * Interrupt the backends running this router's cells, and only those. A shared backend busy
   * with another session's cell is left alone: jupyter_client interrupts before every shutdown,
   * which must not stop other people's work. An idle backend has nothing to interrupt, and a
   * SIGINT to an idle llmspell (which has no handler) would kill it.
   */
  interrupt(): void {
    for (const slot of this.#slots.values()) if (slot.running) slot.interrupt();
  }

  /**
   * The kernel process is gone (its stub was killed): nobody reads the clients' sockets any more,
   * and Jupyter may already be starting its replacement on the same ports (a restart that took
   * longer than jupyter_client waits). Closes them now, not after the backends are released.
   */
  releaseClients(): Promise<void> {
    return this.#frontend.close(0);
  }

  /** Leave every backend (stopping the ones nobody else uses) and close every socket. Idempotent. */
  stop(exitCode = 0, reason = 'stop requested', options: { restart?: boolean } = {}): Promise<void> {
    return (this.#stopping ??= this.#stop(exitCode, reason, options.restart ?? false));
  }

  /**
   * The slot serving `requirement`, started if there is none. A slot whose backend failed to start
   * is kept, so requests answer with its reason at once; a cell (`retryFailed`, the default) starts
   * it again, since the user may have fixed the cause.
   */
  #slotFor(requirement: RequirementRef, { retryFailed = true } = {}): BackendSlot {
    const key = requirementKey(requirement);
    let slot = this.#slots.get(key);
    if (slot && (slot.state !== 'failed' || !retryFailed)) return slot;
    // Its backend died: this one starts it again (status says restarting until it is ready).
    const restart = this.#gone.delete(key);
    slot = new BackendSlot({
      requirement,
      restart,
      directory: this.options.directory,
      logger: this.#log,
      maxPending: this.options.maxPending,
      maxMessageBytes: this.#maxMessageBytes,
      heartbeatTimeoutMs: this.options.heartbeatTimeoutMs,
      iopubRoom: () => this.#frontend.iopubRoom(),
      events: {
        onClientBound: (s, channel, msg) => {
          this.#dispatcher.clientBound(s, channel, msg);
          this.stats.forwardedToClients++;
          this.#frontend.send(channel, this.#replies.counter.relay(msg));
        },
        onIopub: (s, msg) => {
          this.#dispatcher.iopub(s, msg);
          this.stats.iopubPublished++;
          this.#frontend.publish(this.#replies.counter.relay(msg));
          if (msg.msgType === 'status' && this.#order.has(msg.parentHeader.msg_id) && isIdle(msg)) this.#order.ended(msg.parentHeader.msg_id);
        },
        onRejected: (channel, reason) => this.#count(channel, reason),
        onUnserved: (s, channel, msg) => this.#replies.failed(channel, msg, s.failure ?? 'the backend is not available'),
        onFailed: (s) => {
          this.#progress.settled(s);
          // Kept in #slots: the next cell for this requirement starts it again (#slotFor), other requests
          // get its reason. The reason is told by the replies to the requests that wanted it
          // (RouterReplies.failed), not here: a failure nobody asked about has no reader yet.
        },
        onExited: (s, how, exit) => {
          if (this.#state !== 'running') return;
          if (this.#slots.get(s.key) === s) this.#slots.delete(s.key);
          this.#gone.set(s.key, { slot: s, restarting: this.#supervisor.exited(s, how, { restart: restartsAfter(exit), lastOutput: crashOutput(exit) }) });
        },
        // What a second client of a restarted kernel sees: restarting, then the new kernel's statuses.
        // Not the client that asked for the restart (this router is stopping for it): to JupyterLab,
        // `restarting` from its own kernel means it died and was restarted by the server.
        onRestarting: () => {
          if (this.#state === 'running') this.#replies.broadcast('status', statusContent('restarting'));
        },
        onHeartbeat: (s, responsive, silentMs) => this.#supervisor.heartbeat(s, responsive, silentMs),
        // In the running cell's output (its parent header), so the user sees it where the work is.
        onWarning: (s, text) => {
          this.#log.warn({ backend: s.lease?.kernelId, text }, 'backend near a limit');
          this.#replies.broadcast('stream', streamContent('stderr', notice(text)), s.runningCell);
        },
        onOversized: (_s, channel, msg, bytes) => this.#replies.backendTooLarge(channel, msg, bytes),
        // Before the request reaches the backend: the kept output comes first in the cell, then the cell's own.
        onReplay: (_s, output, request) => {
          const text = formatReplay(output);
          if (text.length === 0) return;
          this.#lastReplay = text;
          this.#replies.broadcast('stream', streamContent('stdout', text), request.header);
        },
      },
    });
    this.#slots.set(key, slot);
    void slot.start();
    return slot;
  }

  #resolve(code: string | undefined, metadata: unknown, sticky = this.#sticky): ResolvedRequest | Promise<ResolvedRequest> {
    const resolver = this.options.resolver;
    if (!resolver) return { requirement: { ...this.options.requirement, ...sticky } };
    return resolver.resolve({ code, metadata, sticky });
  }

  /**
   * A dropped message. The backend's own (`backend.*`) its slot counts for the fleet; one from a
   * client counts against the backend it was for (`slot`), or the session's default one.
   */
  #count(channel: string, reason: RejectReason | string, slot = channel.startsWith('backend.') ? undefined : this.defaultSlot): void {
    countDrop(this.stats, this.#log, channel, reason);
    slot?.countDrop(reason);
  }

  async #stop(exitCode: number, reason: string, restart: boolean): Promise<void> {
    this.#state = 'stopping';
    this.#log.info({ reason, exitCode, stats: this.stats }, 'router stopping');
    await Promise.all(
      [...this.#slots.values()].map(async (slot) => {
        const lease = slot.lease;
        // A restart of a shared backend restarts it for everyone attached, as with two clients on one kernel.
        if (restart && lease?.shared && lease.restart && slot.state === 'ready') {
          await lease.restart().catch((error) => this.#log.error({ err: String(error) }, 'backend restart failed'));
        }
        await slot.close({ stop: !lease?.shared, politeShutdown: true });
      }),
    );
    await this.#frontend.close();
    this.#state = 'stopped';
    this.options.onStopped?.(exitCode);
  }
}

/** A slot whose backend died, as status shows it until a new one serves its requirement. */
function goneView({ slot, restarting }: { slot: BackendSlot; restarting: boolean }): MagicsSlot {
  const { requirement, state, failure, settled, lease } = slot;
  return { requirement, state, failure, settled, lease, link: undefined, condition: restarting ? 'restarting' : 'dead' };
}

function isIdle(msg: WireMessage): boolean {
  try {
    return msg.content<{ execution_state?: unknown }>().execution_state === 'idle';
  } catch {
    return false;
  }
}
