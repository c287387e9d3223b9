import { randomUUID } from 'node:crypto';
import type { Logger } from '../shared/log.js';
import { WireMessage, createMessage, type RejectReason } from '../wire/codec.js';
import type { ConnectionInfo } from '../wire/connection-file.js';
import type { RequestChannel } from './backend-link.js';
import { requirementKey, type Requirement as RequirementRef } from '../shared/requirement.js';
import { BackendSlot } from './backend-slot.js';
import { Frontend } from './frontend.js';
import { FleetMagics } from './magics.js';
import { errorReplyContent, fleetKernelInfo, statusContent, streamContent } from './replies.js';
import { DEFAULT_RESTART_POLICY, decideRestart, type RestartPolicy } from './restart-policy.js';
import { diedBeforeReply, exitNotice, heartbeatNotice, notice, tooLarge, type AfterExit } from './notices.js';
import { routeClientRequest } from './routes.js';
import type { BackendDirectory } from './types.js';

export type RouterState = 'running' | 'stopping' | 'stopped';

const DEFAULT_MAX_MESSAGE_BYTES = 2 ** 30;

/** Which backend a request wants. `code` is set when a cell directive was stripped from it. */
export interface ResolvedRequest {
  requirement: RequirementRef;
  sources?: Record<string, string>;
  code?: string;
  error?: string;
}

/** A `%llmspell use` choice: a field left out falls through to the layers below it. */
export interface StickyChoice {
  runtime?: string;
  provider?: string;
  group?: string;
}

export interface RequestResolver {
  /** May be async when a file must be read first (the notebook a VS Code cellId names). */
  resolve(input: { code?: string; metadata?: unknown; sticky?: StickyChoice }): ResolvedRequest | Promise<ResolvedRequest>;
  /** Runtime and provider names, for completing `%llmspell use`. */
  known?(): { runtimes: string[]; providers: string[] };
}

export interface RouterOptions {
  /** The connection file Jupyter wrote for "the kernel", i.e. for us. */
  connection: ConnectionInfo;
  directory: BackendDirectory;
  /** The launch-time requirement: started at once so it is warm for the first kernel_info. */
  requirement: RequirementRef;
  /** Per-request resolution (cell directive, message metadata, sticky choice); default: always `requirement`. */
  resolver?: RequestResolver;
  logger: Logger;
  /** Inbound messages larger than this, from clients and backends, are refused and counted. Default 1 GiB. */
  maxMessageBytes?: number;
  /** Requests held per backend while it starts; beyond this they are refused with an error reply. */
  maxPending?: number;
  /** Backend heartbeat silence that is reported to clients. Default 2500 ms. */
  heartbeatTimeoutMs?: number;
  /** Automatic restarts of a backend that died; `limit: 0` turns them off. */
  restartPolicy?: RestartPolicy;
  /** Called once when the router has stopped; the CLI turns it into the process exit code. */
  onStopped?: (exitCode: number) => void;
}

export interface RouterStats {
  rejected: Partial<Record<string, number>>;
  forwardedToBackend: number;
  forwardedToClients: number;
  iopubPublished: number;
}

/**
 * ProxyRouter: Jupyter's client talks to it as to a kernel; it relays each request to the
 * backend the request asks for (one slot per requirement) and every backend's iopub to the
 * clients. Named so it does not clash with zeromq's Router socket.
 */
export class ProxyRouter {
  readonly session = randomUUID();
  readonly stats: RouterStats = { rejected: {}, forwardedToBackend: 0, forwardedToClients: 0, iopubPublished: 0 };
  #state: RouterState = 'running';
  readonly #maxMessageBytes: number;
  readonly #frontend: Frontend;
  readonly #log: Logger;
  readonly #slots = new Map<string, BackendSlot>();
  /** comm_id -> the slot whose backend holds that comm. */
  readonly #commOwner = new Map<string, BackendSlot>();
  /** client routing id -> the slot that last asked that client for input. */
  readonly #stdinOwner = new Map<string, BackendSlot>();
  #sticky: StickyChoice | undefined;
  /** The requirement of requests that name none (launch layers plus sticky). */
  #default: RequirementRef;
  /** Shell requests that arrived while an earlier one awaited an async resolution: kept in order. */
  #shellBacklog: WireMessage[] | undefined;
  readonly #magics: FleetMagics;
  #stopping: Promise<void> | undefined;
  #executionCount = 0;
  /** When each requirement's backend died lately: restart backoff and limit. */
  readonly #exits = new Map<string, number[]>();

  constructor(private readonly options: RouterOptions) {
    this.#log = options.logger.child({ component: 'router' });
    this.#maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#frontend = new Frontend({
      connection: options.connection,
      logger: this.#log,
      maxMessageBytes: this.#maxMessageBytes,
      onRequest: (channel, msg) => this.#onClientRequest(channel, msg),
      onDropped: (channel, reason) => this.#count(channel, reason),
      onOversized: (channel, msg, bytes) => this.#answerFailed(channel, msg, this.#tooLarge(`this ${msg.msgType}`, bytes) + ' It was not sent; send less.'),
      onSubscribe: () => {
        // A new subscriber missed everything before this moment (slow joiner): greet it.
        this.#broadcast('iopub_welcome', { subscription: '' });
        if (this.defaultSlot?.state === 'starting') this.#broadcast('status', statusContent('starting'));
      },
    });
    this.#default = options.requirement;
    this.#magics = new FleetMagics({
      session: this.session,
      directory: options.directory,
      current: () => this.#slotFor(this.#defaultRequirement()),
      slots: () => [...this.#slots.values()],
      setSticky: async (choice) => {
        this.#sticky = choice;
        const resolved = await this.#resolve(undefined, {});
        this.#default = resolved.requirement;
        return this.#slotFor(resolved.requirement);
      },
      known: () => this.options.resolver?.known?.() ?? { runtimes: [], providers: [] },
      nextExecutionCount: () => this.#nextExecutionCount(),
      reply: (channel, request, msgType, content) => this.#reply(channel, request, msgType, content),
      broadcast: (msgType, content, parent) => this.#broadcast(msgType, content, parent),
    });
  }

  get state(): RouterState { return this.#state; }
  /** The slot serving requests that name no requirement. */
  get defaultSlot(): BackendSlot | undefined { return this.#slots.get(requirementKey(this.#defaultRequirement())); }

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

  /** Leave every backend (stopping the ones nobody else uses) and close every socket. Idempotent. */
  stop(exitCode = 0, reason = 'stop requested', options: { restart?: boolean } = {}): Promise<void> {
    return (this.#stopping ??= this.#stop(exitCode, reason, options.restart ?? false));
  }

  #defaultRequirement(): RequirementRef {
    return this.#default;
  }

  #slotFor(requirement: RequirementRef): BackendSlot {
    const key = requirementKey(requirement);
    let slot = this.#slots.get(key);
    if (slot) return slot;
    slot = new BackendSlot({
      requirement,
      directory: this.options.directory,
      logger: this.#log,
      maxPending: this.options.maxPending,
      maxMessageBytes: this.#maxMessageBytes,
      heartbeatTimeoutMs: this.options.heartbeatTimeoutMs,
      iopubRoom: () => this.#frontend.iopubRoom(),
      events: {
        onClientBound: (s, channel, msg) => this.#toClient(s, channel, msg),
        onIopub: (s, msg) => this.#fromBackendIopub(s, msg),
        onRejected: (channel, reason) => this.#count(channel, reason),
        onUnserved: (s, channel, msg) => this.#answerFailed(channel, msg, s.failure ?? 'the backend is not available'),
        onReady: () => {},
        onFailed: (s, reason) => {
          // Forget it: the next request for this requirement tries again (the user may have fixed the config).
          if (this.#slots.get(s.key) === s) this.#slots.delete(s.key);
          this.#broadcast('stream', streamContent('stderr', notice(reason)));
        },
        onExited: (s, reason) => this.#onBackendExit(s, reason),
        // What a second client of a restarted kernel sees: restarting, then the new kernel's statuses.
        onRestarting: () => this.#broadcast('status', statusContent('restarting')),
        onHeartbeat: (s, responsive, silentMs) => this.#onHeartbeat(s, responsive, silentMs),
        onOversized: (_s, channel, msg, bytes) => this.#backendOversized(channel, msg, bytes),
      },
    });
    this.#slots.set(key, slot);
    void slot.start();
    return slot;
  }

  #onBackendExit(slot: BackendSlot, how: string): void {
    if (this.#state !== 'running') return;
    if (this.#slots.get(slot.key) === slot) this.#slots.delete(slot.key);
    const backend = { key: slot.key, pid: slot.lease?.pid };
    this.#log.error({ backend: slot.lease?.kernelId, reason: how }, 'backend exited');
    const policy = this.options.restartPolicy ?? DEFAULT_RESTART_POLICY;
    const decision = decideRestart(this.#exits.get(slot.key) ?? [], Date.now(), policy);
    this.#exits.set(slot.key, decision.history);
    const after: AfterExit = policy.limit === 0 ? { kind: 'restarts-off' } : decision.restart ? { kind: 'restarting' } : { kind: 'too-many', deaths: decision.deaths };
    this.#broadcast('stream', streamContent('stderr', exitNotice(backend, how, after)));
    // A request the dead backend had taken gets an error reply instead of hanging its client.
    for (const { channel, msg } of slot.takeInFlight()) this.#answerFailed(channel, msg, diedBeforeReply(backend, how));
    void slot.close({ stop: false });
    // Started again with backoff so the next request finds it warm; past the limit, the next request starts it.
    if (!decision.restart) return;
    this.#broadcast('status', statusContent('restarting'));
    const timer = setTimeout(() => {
      if (this.#state === 'running' && !this.#slots.has(slot.key)) this.#slotFor(slot.requirement);
    }, decision.delayMs);
    timer.unref();
  }

  #tooLarge(what: string, bytes: number): string {
    return tooLarge(what, bytes, this.#maxMessageBytes);
  }

  /**
   * The backend said something too large to relay. Output is replaced by a notice in the same
   * cell; a reply is replaced by an error reply, so the client is not left waiting.
   */
  #backendOversized(channel: RequestChannel | 'iopub', msg: WireMessage, bytes: number): void {
    const what = this.#tooLarge(`an ${msg.msgType} from the backend`, bytes) + ' It was dropped.';
    this.#log.warn({ channel, msgType: msg.msgType, bytes }, 'oversized backend message dropped');
    if (channel === 'iopub') {
      this.#broadcast('stream', streamContent('stderr', notice(what)), msg.parentHeader);
      return;
    }
    if (channel === 'stdin' || !msg.msgType.endsWith('_reply')) return;
    const content = { ...errorReplyContent('FleetError', what), ...(msg.msgType === 'execute_reply' ? { execution_count: this.#nextExecutionCount() } : {}) };
    this.#frontend.send(channel, createMessage({ msgType: msg.msgType, content, session: this.session, parentHeader: msg.parentHeader, identities: msg.identities }));
  }

  #onHeartbeat(slot: BackendSlot, responsive: boolean, silentMs: number): void {
    if (responsive) this.#log.warn({ backend: slot.lease?.kernelId }, 'backend heartbeat back');
    else this.#log.error({ backend: slot.lease?.kernelId, silentMs }, 'backend heartbeat silent');
    this.#broadcast('stream', streamContent('stderr', heartbeatNotice({ key: slot.key, pid: slot.lease?.pid }, responsive, silentMs)));
  }

  #onClientRequest(channel: RequestChannel, msg: WireMessage): void {
    if (channel !== 'shell') return void this.#dispatch(channel, msg);
    if (this.#shellBacklog) {
      this.#shellBacklog.push(msg);
      return;
    }
    const pending = this.#dispatch(channel, msg);
    if (pending) this.#awaitThenDrain(pending, []);
  }

  /** Shell order is kept across an async resolution: later requests wait in the backlog. */
  #awaitThenDrain(pending: Promise<void>, backlog: WireMessage[]): void {
    this.#shellBacklog = backlog;
    void pending.finally(() => {
      this.#shellBacklog = undefined;
      while (backlog.length > 0) {
        const next = this.#dispatch('shell', backlog.shift()!);
        if (next) return this.#awaitThenDrain(next, backlog);
      }
    });
  }

  /** Handle one request; returns a promise only when it had to wait for an async resolution. */
  #dispatch(channel: RequestChannel, msg: WireMessage): Promise<void> | undefined {
    try {
      return this.#handle(channel, msg);
    } catch (error) {
      // Content the router had to read was not JSON: drop it like any malformed message.
      this.#count(`frontend.${channel}`, 'BAD_JSON');
      this.#log.debug({ err: (error as Error).message }, 'request not routable');
      return undefined;
    }
  }

  #handle(channel: RequestChannel, msg: WireMessage): Promise<void> | undefined {
    if (this.#state !== 'running') return;
    const action = routeClientRequest(channel, msg.msgType, () => msg.content(), 'message');
    if (action.kind === 'shutdown') {
      this.#reply(channel, msg, 'shutdown_reply', { status: 'ok', restart: action.restart });
      void this.stop(0, action.restart ? 'restart requested by client' : 'shutdown requested by client', { restart: action.restart });
      return;
    }
    if (action.kind === 'interrupt') {
      this.interrupt();
      this.#reply(channel, msg, 'interrupt_reply', { status: 'ok' });
      return;
    }
    const target = this.#target(channel, msg);
    if (target instanceof Promise) return target.then((t) => this.#submit(channel, msg, t));
    this.#submit(channel, msg, target);
    return undefined;
  }

  #submit(channel: RequestChannel, original: WireMessage, target: Target | undefined): void {
    if (!target || this.#state !== 'running') return;
    this.stats.forwardedToBackend++;
    if (!target.slot.submit(channel, target.msg)) {
      this.#count(`frontend.${channel}`, 'PENDING_FULL' as RejectReason);
      this.#answerFailed(channel, original, 'too many requests while the backend is starting; try again when it is ready');
    }
  }

  /** Which slot gets a request, and the message to send (a stripped directive changes it). */
  #target(channel: RequestChannel, msg: WireMessage): Target | undefined | Promise<Target | undefined> {
    const type = msg.msgType;
    if (channel === 'stdin') {
      const owner = this.#stdinOwner.get(identityKey(msg.identities));
      return { slot: owner && this.#live(owner) ? owner : this.#slotFor(this.#defaultRequirement()), msg };
    }
    if (type === 'comm_msg' || type === 'comm_close') {
      const owner = this.#commOwner.get(String(msg.content<{ comm_id?: unknown }>().comm_id));
      if (type === 'comm_close') this.#commOwner.delete(String(msg.content<{ comm_id?: unknown }>().comm_id));
      return { slot: owner && this.#live(owner) ? owner : this.#slotFor(this.#defaultRequirement()), msg };
    }
    if (type === 'execute_request' || type === 'comm_open') {
      const content = msg.content<{ code?: unknown; comm_id?: unknown }>();
      const code = typeof content.code === 'string' ? content.code : undefined;
      if (type === 'execute_request' && code !== undefined && this.#magics.handle(channel, msg, code)) return undefined;
      const place = (resolved: ResolvedRequest): Target | undefined => {
        if (resolved.error) {
          this.#answerFailed(channel, msg, resolved.error);
          return undefined;
        }
        const slot = this.#slotFor(resolved.requirement);
        if (type === 'comm_open' && typeof content.comm_id === 'string') this.#commOwner.set(content.comm_id, slot);
        const out = resolved.code !== undefined && resolved.code !== code ? withContent(msg, { ...content, code: resolved.code }) : msg;
        return { slot, msg: out };
      };
      const resolved = this.#resolve(code, msg.metadata());
      return resolved instanceof Promise ? resolved.then(place) : place(resolved);
    }
    if (type === 'complete_request' && this.#magics.complete(channel, msg)) return undefined;
    return { slot: this.#slotFor(this.#defaultRequirement()), msg };
  }

  #resolve(code: string | undefined, metadata: unknown): ResolvedRequest | Promise<ResolvedRequest> {
    const resolver = this.options.resolver;
    if (!resolver) return { requirement: { ...this.options.requirement, ...this.#sticky } };
    return resolver.resolve({ code, metadata, sticky: this.#sticky });
  }

  #live(slot: BackendSlot): boolean {
    return this.#slots.get(slot.key) === slot;
  }

  #answerFailed(channel: RequestChannel, msg: WireMessage, reason: string): void {
    const type = msg.msgType;
    if (!type.endsWith('_request') || channel === 'stdin') return;
    const replyType = type.replace(/_request$/, '_reply');
    if (type === 'kernel_info_request') {
      this.#withStatus(msg, () => this.#reply(channel, msg, replyType, fleetKernelInfo(`llmspell-fleet: ${reason}`)));
      return;
    }
    const error = errorReplyContent('FleetError', reason);
    this.#withStatus(msg, () => {
      // A notebook shows a cell's iopub output, not its reply: the error must be there too.
      if (type === 'execute_request') this.#broadcast('error', error, msg.header);
      const count = type === 'execute_request' ? { execution_count: this.#nextExecutionCount() } : {};
      this.#reply(channel, msg, replyType, { ...error, ...count });
    });
  }

  /** The router's own count for cells it answers itself (magics, errors): the spec wants an int. */
  #nextExecutionCount(): number {
    return ++this.#executionCount;
  }

  /** busy/idle around a reply the router makes itself, as a kernel would: clients wait for idle. */
  #withStatus(parent: WireMessage, body: () => void): void {
    this.#broadcast('status', statusContent('busy'), parent.header);
    body();
    this.#broadcast('status', statusContent('idle'), parent.header);
  }

  #reply(channel: RequestChannel, request: WireMessage, msgType: string, content: object): void {
    this.#frontend.reply(channel, request, msgType, content);
  }

  #toClient(slot: BackendSlot, channel: RequestChannel, msg: WireMessage): void {
    if (channel === 'stdin' && msg.msgType === 'input_request') this.#stdinOwner.set(identityKey(msg.identities), slot);
    this.stats.forwardedToClients++;
    this.#frontend.send(channel, msg);
  }

  #fromBackendIopub(slot: BackendSlot, msg: WireMessage): void {
    if (msg.msgType === 'comm_open') {
      const id = msg.content<{ comm_id?: unknown }>().comm_id;
      if (typeof id === 'string') this.#commOwner.set(id, slot);
    }
    this.stats.iopubPublished++;
    this.#frontend.publish(msg);
  }

  #broadcast(msgType: string, content: object, parentHeader: object = {}): void {
    this.#frontend.broadcast(msgType, content, parentHeader);
  }

  #count(channel: string, reason: RejectReason | string): void {
    const key = `${channel}:${reason}`;
    const n = (this.stats.rejected[key] ?? 0) + 1;
    this.stats.rejected[key] = n;
    // The first few of each kind at warn, then every 1000th, so a flood cannot fill the disk.
    if (n <= 5 || n % 1000 === 0) this.#log.warn({ channel, reason, count: n }, 'message dropped');
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

type Target = { slot: BackendSlot; msg: WireMessage };

function identityKey(identities: readonly Buffer[]): string {
  return identities.map((b) => b.toString('hex')).join('.');
}

/** The same request with new content (a stripped directive); header and ids unchanged, re-signed on send. */
function withContent(msg: WireMessage, content: object): WireMessage {
  const [h, p, m] = msg.parts.signed;
  return new WireMessage({ ...msg.parts, signed: [h, p, m, Buffer.from(JSON.stringify(content))] });
}
