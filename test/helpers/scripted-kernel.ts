/**
 * A kernel's side of the five channels, scripted by the test: it binds what a kernel binds
 * (ROUTER on shell/control/stdin, XPUB on iopub, REP on hb), hands the test each request it
 * receives, and sends exactly the replies, publications and echoes the test asks for, signed
 * with the connection's key or, to test refusal, with another. Used by the wire client tests
 * for behaviour no real kernel shows on demand: silence, wrong keys, replies out of order.
 * (zmq-peers.ts's KernelPeer, for the router tests, answers kernel_info by itself; this one
 * answers nothing unless told, which the client's timeout and matching tests need.)
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { createMessage, decode, encode, type WireMessage } from '../../src/wire/codec.js';
import type { ConnectionInfo } from '../../src/wire/connection-file.js';
import { createSigner } from '../../src/wire/sign.js';

export type PeerTransport = 'tcp' | 'ipc';
type RequestChannel = 'shell' | 'control' | 'stdin';

export interface PeerRequest {
  channel: RequestChannel;
  /** The client's routing id as the ROUTER saw it. */
  identities: Buffer[];
  msg: WireMessage;
}

export interface SendOptions {
  /** Sign with this key instead of the connection's (a forgery the client must refuse). */
  key?: string;
  parentHeader?: object;
}

/** Items in arrival order, taken one at a time by awaiting next(). */
class Inbox<T> {
  readonly #items: T[] = [];
  readonly #waiters: ((item: T) => void)[] = [];
  put(item: T): void {
    const w = this.#waiters.shift();
    if (w) w(item);
    else this.#items.push(item);
  }
  next(): Promise<T> {
    const item = this.#items.shift();
    return item !== undefined ? Promise.resolve(item) : new Promise((resolve) => this.#waiters.push(resolve));
  }
}

export class ScriptedKernel {
  readonly session = randomUUID();
  readonly #routers: Record<RequestChannel, zmq.Router>;
  readonly #iopub: zmq.XPublisher;
  readonly #hb: zmq.Reply;
  readonly #requests: Record<RequestChannel, Inbox<PeerRequest>> = { shell: new Inbox(), control: new Inbox(), stdin: new Inbox() };
  readonly #subscriptions = new Inbox<void>();
  readonly #handshakes: Record<RequestChannel, number> = { shell: 0, control: 0, stdin: 0 };
  readonly #handshakeWaiters: (() => void)[] = [];
  #answering = true;
  #heldPing: Buffer[] | undefined;

  private constructor(readonly info: ConnectionInfo, private readonly dir: string | undefined) {
    // mandatory: a message for a client not connected yet fails (EHOSTUNREACH) instead of vanishing.
    const router = () => new zmq.Router({ linger: 0, mandatory: true });
    this.#routers = { shell: router(), control: router(), stdin: router() };
    for (const channel of ['shell', 'control', 'stdin'] as const) {
      this.#routers[channel].events.on('handshake', () => {
        this.#handshakes[channel]++;
        for (const w of this.#handshakeWaiters.splice(0)) w();
      });
    }
    this.#iopub = new zmq.XPublisher({ linger: 0 });
    this.#hb = new zmq.Reply({ linger: 0 });
  }

  static async start(transport: PeerTransport, key = randomUUID()): Promise<ScriptedKernel> {
    const dir = transport === 'ipc' ? await mkdtemp(join(tmpdir(), 'scripted-kernel-')) : undefined;
    const ip = dir !== undefined ? join(dir, 'k') : '127.0.0.1';
    const info = { transport, ip, key, signature_scheme: 'hmac-sha256', shell_port: 1, iopub_port: 2, stdin_port: 3, control_port: 4, hb_port: 5 } as ConnectionInfo;
    const peer = new ScriptedKernel(info, dir);
    const sockets = { ...peer.#routers, iopub: peer.#iopub, hb: peer.#hb };
    for (const [channel, socket] of Object.entries(sockets)) {
      const field = `${channel}_port` as 'shell_port';
      // tcp: port 0 lets the OS choose; ipc: Jupyter's "<ip>-<port>" path.
      await socket.bind(transport === 'ipc' ? `ipc://${ip}-${info[field]}` : 'tcp://127.0.0.1:*');
      if (transport === 'tcp') info[field] = Number(/:(\d+)$/.exec(socket.lastEndpoint!)![1]);
    }
    for (const channel of ['shell', 'control', 'stdin'] as const) void peer.#read(channel);
    void peer.#readSubscriptions();
    void peer.#echo();
    return peer;
  }

  /** The next request the client sent on `channel`, verified with the connection's key. */
  nextRequest(channel: RequestChannel = 'shell'): Promise<PeerRequest> {
    return this.#requests[channel].next();
  }

  /** Resolves when a client's iopub subscription has reached this publisher. */
  subscribed(): Promise<void> {
    return this.#subscriptions.next();
  }

  /** Sends `msgType` to the client that made `to`, with `to` as parent unless told otherwise. */
  async reply(to: PeerRequest, msgType: string, content: object, options: SendOptions = {}): Promise<WireMessage> {
    return this.sendTo(to.channel, to.identities, msgType, content, { parentHeader: to.msg.header, ...options });
  }

  async sendTo(channel: RequestChannel, identities: Buffer[], msgType: string, content: object, options: SendOptions = {}): Promise<WireMessage> {
    const msg = createMessage({ msgType, content, session: this.session, parentHeader: options.parentHeader, identities });
    const frames = encode(msg, createSigner(options.key ?? this.info.key));
    // The client's socket on this channel may still be connecting (its shell already is):
    // each refusal waits for the next connection handshake on the channel, then tries again.
    for (;;) {
      const seen = this.#handshakes[channel];
      try {
        await this.#routers[channel].send(frames);
        return msg;
      } catch (error) {
        if ((error as { code?: string }).code !== 'EHOSTUNREACH') throw error;
        while (this.#handshakes[channel] === seen) await new Promise<void>((resolve) => this.#handshakeWaiters.push(resolve));
      }
    }
  }

  async publish(msgType: string, content: object, options: SendOptions = {}): Promise<WireMessage> {
    const msg = createMessage({ msgType, content, session: this.session, parentHeader: options.parentHeader, identities: [Buffer.from(msgType)] });
    await this.#iopub.send(encode(msg, createSigner(options.key ?? this.info.key)));
    return msg;
  }

  /** Frames on iopub as they are, for kernels that do not speak the signed multipart format. */
  async publishRaw(frames: Buffer[]): Promise<void> {
    await this.#iopub.send(frames);
  }

  /**
   * Off: pings are read and left unanswered. On again: the ping held meanwhile is answered
   * late (REP must reply before it can read), as a kernel coming back from a stall would.
   */
  setHeartbeat(answering: boolean): void {
    this.#answering = answering;
    if (answering && this.#heldPing !== undefined) {
      const held = this.#heldPing;
      this.#heldPing = undefined;
      this.#hb.send(held).then(() => this.#echo(), (e: unknown) => {
        if (!this.#hb.closed) throw e; // closed by the test meanwhile: nothing to answer
      });
    }
  }

  async close(): Promise<void> {
    for (const s of [...Object.values(this.#routers), this.#iopub, this.#hb]) if (!s.closed) s.close();
    if (this.dir !== undefined) await rm(this.dir, { recursive: true, force: true });
  }

  async #read(channel: RequestChannel): Promise<void> {
    const signer = createSigner(this.info.key);
    try {
      for await (const frames of this.#routers[channel]) {
        const r = decode(frames, { signer });
        if (!r.ok) throw new Error(`scripted kernel: ${channel} request refused (${r.reason})`);
        this.#requests[channel].put({ channel, identities: [...r.msg.identities], msg: r.msg });
      }
    } catch (error) {
      if (!this.#routers[channel].closed) throw error;
    }
  }

  async #readSubscriptions(): Promise<void> {
    try {
      for await (const [event] of this.#iopub) if (event?.[0] === 1) this.#subscriptions.put();
    } catch (error) {
      if (!this.#iopub.closed) throw error;
    }
  }

  /** One echo per call chain: REP alternates receive and send, so holding a ping stops reading. */
  async #echo(): Promise<void> {
    try {
      for (;;) {
        const frames = await this.#hb.receive();
        if (!this.#answering) {
          this.#heldPing = frames;
          return;
        }
        await this.#hb.send(frames);
      }
    } catch (error) {
      if (!this.#hb.closed) throw error;
    }
  }
}
