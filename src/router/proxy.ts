import { randomUUID } from 'node:crypto';
import type * as zmq from 'zeromq';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { createMessage, decode, encode, type RejectReason, type WireMessage } from '../wire/codec.js';
import type { ConnectionInfo } from '../wire/connection-file.js';
import { ReplayGuard, createSigner, type Signer } from '../wire/sign.js';
import { BackendLink, type RequestChannel } from './backend-link.js';
import { serveHeartbeat } from './heartbeat.js';
import { errorReplyContent, fleetKernelInfo, statusContent, streamContent } from './replies.js';
import { routeClientRequest } from './routes.js';
import { SendQueue } from './send-queue.js';
import { bindFrontend, closeAll, type FrontendSockets } from './sockets.js';
import type { BackendDirectory, BackendLease, RequirementRef } from './types.js';

export type RouterState = 'starting' | 'ready' | 'failed' | 'stopping' | 'stopped';

export interface RouterOptions {
  /** The connection file Jupyter wrote for "the kernel", i.e. for us. */
  connection: ConnectionInfo;
  directory: BackendDirectory;
  requirement: RequirementRef;
  logger: Logger;
  /** Inbound messages larger than this are dropped and counted. Default 1 GiB. */
  maxMessageBytes?: number;
  /** Requests held while the backend starts; beyond this they are refused with an error reply. */
  maxPending?: number;
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
 * ProxyRouter: Jupyter's client talks to it as to a kernel; it relays every channel to one
 * backend. Named so it does not clash with zeromq's Router socket.
 */
export class ProxyRouter {
  readonly session = randomUUID();
  readonly stats: RouterStats = { rejected: {}, forwardedToBackend: 0, forwardedToClients: 0, iopubPublished: 0 };
  #state: RouterState = 'starting';
  #frontend!: FrontendSockets;
  #queues!: Record<RequestChannel | 'iopub', SendQueue>;
  readonly #signer: Signer;
  readonly #replay = new ReplayGuard();
  readonly #log: Logger;
  #pending: { channel: RequestChannel; msg: WireMessage }[] = [];
  #lease: BackendLease | undefined;
  #link: BackendLink | undefined;
  #failure: string | undefined;
  readonly #attachAbort = new AbortController();
  #stopping: Promise<void> | undefined;

  constructor(private readonly options: RouterOptions) {
    this.#signer = createSigner(options.connection.key, options.connection.signature_scheme);
    this.#log = options.logger.child({ component: 'router' });
  }

  get state(): RouterState { return this.#state; }
  get lease(): BackendLease | undefined { return this.#lease; }

  /** Binds the client's sockets (throws BIND_FAILED), then starts the backend without waiting for it. */
  async start(): Promise<void> {
    this.#frontend = await bindFrontend(this.options.connection);
    const f = this.#frontend;
    const onSendError = (channel: string) => (error: unknown) => {
      this.#count(`frontend.${channel}:${(error as { code?: string }).code ?? 'SEND_FAILED'}`);
    };
    this.#queues = {
      shell: new SendQueue(f.shell, { name: 'frontend.shell', logger: this.#log, onSendError: onSendError('shell') }),
      control: new SendQueue(f.control, { name: 'frontend.control', logger: this.#log, onSendError: onSendError('control') }),
      stdin: new SendQueue(f.stdin, { name: 'frontend.stdin', logger: this.#log, onSendError: onSendError('stdin') }),
      iopub: new SendQueue(f.iopub, { name: 'frontend.iopub', logger: this.#log }),
    };
    for (const ch of ['shell', 'control', 'stdin'] as const) void this.#readClients(ch, f[ch]);
    void this.#readSubscriptions(f.iopub);
    void serveHeartbeat(f.hb).catch((error) => this.#log.error({ err: error }, 'heartbeat failed'));
    void this.#attach();
  }

  /** Interrupt whatever the backend is running, in the backend's own interrupt mode. */
  interrupt(): void {
    const lease = this.#lease;
    if (!lease || this.#state !== 'ready') return;
    if (lease.interruptMode === 'signal') lease.interrupt();
    else this.#link?.request('control', 'interrupt_request', {});
  }

  /** Stop the backend and close every socket. Idempotent. */
  stop(exitCode = 0, reason = 'stop requested'): Promise<void> {
    return (this.#stopping ??= this.#stop(exitCode, reason));
  }

  async #attach(): Promise<void> {
    const signal = this.#attachAbort.signal;
    try {
      const lease = await this.options.directory.acquire(this.options.requirement, { signal });
      this.#lease = lease;
      if (this.#state === 'stopping') return;
      void lease.exited.then((exit) => this.#onBackendExit(exit.reason));
      this.#link = new BackendLink({
        lease,
        logger: this.#log.child({ backend: lease.kernelId }),
        maxMessageBytes: this.options.maxMessageBytes,
        onClientBound: (channel, msg) => this.#toClient(channel, msg),
        onIopub: (msg) => this.#publish(msg),
        onRejected: (channel, reason) => this.#reject(channel, reason),
        onHeartbeat: (ok) => this.#log.info({ backend: lease.kernelId, responsive: ok }, 'backend heartbeat changed'),
      });
      await this.#link.handshake(signal);
      if (this.#state !== 'starting') return;
      this.#state = 'ready';
      this.#log.info({ backend: lease.kernelId, pid: lease.pid, pending: this.#pending.length }, 'backend ready');
      for (const { channel, msg } of this.#pending.splice(0)) this.#forward(channel, msg);
    } catch (error) {
      if (this.#state === 'stopping' || this.#state === 'stopped') return;
      this.#fail(describeError(error));
    }
  }

  /** The backend could not be started: every request gets an error that says why, nothing hangs. */
  #fail(message: string): void {
    this.#state = 'failed';
    this.#failure = message;
    this.#log.error({ reason: message }, 'backend unavailable');
    this.#broadcast('stream', streamContent('stderr', `llmspell-fleet: ${message}\n`));
    for (const { channel, msg } of this.#pending.splice(0)) this.#answerFailed(channel, msg);
  }

  #onBackendExit(reason: string): void {
    if (this.#state === 'stopping' || this.#state === 'stopped') return;
    const lease = this.#lease!;
    const text = `llmspell-fleet: the ${lease.requirement.runtime}/${lease.requirement.provider} backend (pid ${lease.pid}) ${reason}. Restart the kernel to start a new one.\n`;
    this.#log.error({ backend: lease.kernelId, reason }, 'backend exited');
    this.#broadcast('stream', streamContent('stderr', text));
    this.#broadcast('status', statusContent('dead'));
    // Exiting lets the client's kernel manager see a dead kernel and restart it with a fresh backend.
    void this.stop(1, `backend exited: ${reason}`);
  }

  async #readClients(channel: RequestChannel, socket: zmq.Router): Promise<void> {
    try {
      for await (const frames of socket) {
        const result = decode(frames, { signer: this.#signer, replay: this.#replay, maxBytes: this.options.maxMessageBytes ?? 2 ** 30 });
        if (!result.ok) {
          this.#reject(`frontend.${channel}`, result.reason);
          continue;
        }
        this.#onClientRequest(channel, result.msg);
      }
    } catch (error) {
      if (this.#state !== 'stopping' && this.#state !== 'stopped') this.#log.error({ err: error, channel }, 'client reader failed');
    }
  }

  #onClientRequest(channel: RequestChannel, msg: WireMessage): void {
    const interruptMode = this.#lease?.interruptMode ?? 'message';
    let action;
    try {
      action = routeClientRequest(channel, msg.msgType, () => msg.content(), interruptMode);
    } catch {
      this.#reject(`frontend.${channel}`, 'BAD_JSON');
      return;
    }
    if (action.kind === 'shutdown') {
      this.#reply(channel, msg, 'shutdown_reply', { status: 'ok', restart: action.restart });
      void this.stop(0, action.restart ? 'restart requested by client' : 'shutdown requested by client');
      return;
    }
    if (action.kind === 'interrupt' && action.via === 'signal') {
      if (this.#state === 'ready') this.#lease!.interrupt();
      this.#reply(channel, msg, 'interrupt_reply', { status: 'ok' });
      return;
    }
    switch (this.#state) {
      case 'ready': return this.#forward(channel, msg);
      case 'starting': {
        if (this.#pending.length >= (this.options.maxPending ?? 10_000)) {
          this.#reject(`frontend.${channel}`, 'PENDING_FULL' as RejectReason);
          return this.#answerFailed(channel, msg, 'too many requests while the backend is starting; try again when it is ready');
        }
        this.#pending.push({ channel, msg });
        return;
      }
      case 'failed': return this.#answerFailed(channel, msg);
      default: return;
    }
  }

  #forward(channel: RequestChannel, msg: WireMessage): void {
    this.stats.forwardedToBackend++;
    this.#link!.forward(channel, msg);
  }

  #answerFailed(channel: RequestChannel, msg: WireMessage, reason = this.#failure ?? 'the backend is not available'): void {
    const type = msg.msgType;
    if (!type.endsWith('_request') || channel === 'stdin') return;
    const replyType = type.replace(/_request$/, '_reply');
    const content = type === 'kernel_info_request'
      ? fleetKernelInfo(`llmspell-fleet: ${reason}`)
      : errorReplyContent('FleetError', reason);
    this.#withStatus(msg, () => this.#reply(channel, msg, replyType, content));
  }

  /** busy/idle around a reply the router makes itself, as a kernel would: clients wait for idle. */
  #withStatus(parent: WireMessage, body: () => void): void {
    this.#broadcast('status', statusContent('busy'), parent.header);
    body();
    this.#broadcast('status', statusContent('idle'), parent.header);
  }

  #reply(channel: RequestChannel, request: WireMessage, msgType: string, content: object): void {
    const reply = createMessage({ msgType, content, session: this.session, parentHeader: request.header, identities: request.identities });
    this.#queues[channel].push(encode(reply, this.#signer));
  }

  #toClient(channel: RequestChannel, msg: WireMessage): void {
    this.stats.forwardedToClients++;
    this.#queues[channel].push(encode(msg, this.#signer));
  }

  #publish(msg: WireMessage): void {
    this.stats.iopubPublished++;
    this.#queues.iopub.push(encode(msg, this.#signer));
  }

  #broadcast(msgType: string, content: object, parentHeader: object = {}): void {
    const topic = Buffer.from(msgType === 'status' ? 'kernel.llmspell-fleet.status' : msgType);
    const msg = createMessage({ msgType, content, session: this.session, parentHeader, identities: [topic] });
    this.#queues?.iopub.push(encode(msg, this.#signer));
  }

  async #readSubscriptions(socket: zmq.XPublisher): Promise<void> {
    try {
      for await (const [frame] of socket) {
        if (!frame || frame[0] !== 1) continue;
        // A new subscriber missed everything before this moment (slow joiner): greet it.
        this.#broadcast('iopub_welcome', { subscription: frame.subarray(1).toString('utf8') });
        if (this.#state === 'starting') this.#broadcast('status', statusContent('starting'));
      }
    } catch (error) {
      if (this.#state !== 'stopping' && this.#state !== 'stopped') this.#log.error({ err: error }, 'subscription reader failed');
    }
  }

  #reject(channel: string, reason: RejectReason): void {
    const key = `${channel}:${reason}`;
    const n = (this.stats.rejected[key] ?? 0) + 1;
    this.stats.rejected[key] = n;
    // Log the first few of each kind at warn, then only every 1000th, so a flood cannot fill the disk.
    if (n <= 5 || n % 1000 === 0) this.#log.warn({ channel, reason, count: n }, 'message dropped');
  }

  #count(key: string): void {
    this.#reject(key.split(':')[0]!, key.split(':')[1] as RejectReason);
  }

  async #stop(exitCode: number, reason: string): Promise<void> {
    const wasReady = this.#state === 'ready';
    this.#state = 'stopping';
    this.#log.info({ reason, exitCode, stats: this.stats }, 'router stopping');
    this.#attachAbort.abort(new Error(reason));
    const lease = this.#lease;
    if (lease) {
      if (wasReady && this.#link) {
        // A polite shutdown first (ipykernel cleans up); the lease's kill ladder covers kernels that ignore it.
        this.#link.request('control', 'shutdown_request', { restart: false });
        await Promise.race([lease.exited, delay(1000)]);
      }
      await lease.release({ stop: true }).catch((error) => this.#log.error({ err: error }, 'backend stop failed'));
    }
    this.#link?.close();
    if (this.#queues) {
      await Promise.race([Promise.all(Object.values(this.#queues).map((q) => q.drained())), delay(1000)]);
      for (const q of Object.values(this.#queues)) q.close();
    }
    if (this.#frontend) closeAll(this.#frontend);
    this.#state = 'stopped';
    this.options.onStopped?.(exitCode);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
