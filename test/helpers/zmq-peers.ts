/**
 * Small zeromq peers for router unit tests, over real sockets on ipc or tcp loopback: a kernel
 * the router connects to as a backend (answers kernel_info so a handshake completes; the test
 * answers everything else), and a client that connects to the router's frontend as Jupyter
 * does. Both sign and verify with src/wire. Test fixtures, not kernels: they do only what a
 * test tells them to.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zmq from 'zeromq';
import { allocatePorts } from '../../src/fleet/ports.js';
import { createMessage, decode, encode, type WireMessage } from '../../src/wire/codec.js';
import { endpoint, newKey, type ConnectionInfo } from '../../src/wire/connection-file.js';
import { createSigner, type Signer } from '../../src/wire/sign.js';
import { curveServerOptions } from '../../src/wire/curve.js';
import { SendQueue } from '../../src/wire/send-queue.js';
import { silentLogger } from '../../src/shared/log.js';

export type Transport = 'ipc' | 'tcp';
export type ReqChannel = 'shell' | 'control' | 'stdin';

const dirs: string[] = [];
/** Remove the ipc directories made so far (call in afterAll). */
export function removeIpcDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** A fresh connection file's worth of endpoints and key, on loopback. */
export async function loopbackConnection(transport: Transport): Promise<ConnectionInfo> {
  const base = { signature_scheme: 'hmac-sha256', key: newKey() };
  if (transport === 'ipc') {
    const dir = mkdtempSync(join(tmpdir(), 'llmspell-router-unit-'));
    dirs.push(dir);
    return { ...base, transport, ip: join(dir, 'k'), shell_port: 1, iopub_port: 2, stdin_port: 3, control_port: 4, hb_port: 5 };
  }
  const [shell, iopub, stdin, control, hb] = await allocatePorts('127.0.0.1', 5);
  return { ...base, transport, ip: '127.0.0.1', shell_port: shell!, iopub_port: iopub!, stdin_port: stdin!, control_port: control!, hb_port: hb! };
}

/** Messages (or any events) as they arrive; `next` waits for the first not yet taken that matches. */
export class Inbox<T = WireMessage> {
  readonly all: T[] = [];
  #taken = new Set<T>();
  #waiters: { match: (m: T) => boolean; resolve: (m: T) => void }[] = [];

  push(msg: T): void {
    this.all.push(msg);
    const w = this.#waiters.find((x) => x.match(msg));
    if (!w) return;
    this.#waiters.splice(this.#waiters.indexOf(w), 1);
    this.#taken.add(msg);
    w.resolve(msg);
  }

  /** A string matches a WireMessage's msg_type. */
  next(match: string | ((m: T) => boolean) = () => true): Promise<T> {
    const fn = typeof match === 'string' ? (m: T) => (m as unknown as WireMessage).msgType === match : match;
    const found = this.all.find((m) => !this.#taken.has(m) && fn(m));
    if (found !== undefined) {
      this.#taken.add(found);
      return Promise.resolve(found);
    }
    return new Promise((resolve) => this.#waiters.push({ match: fn, resolve }));
  }
}

type Sendable = { send(frames: Buffer[]): Promise<void>; readonly closed: boolean };

/**
 * One SendQueue per socket, as the router has: zeromq.js refuses a second pending send, and a
 * send to a socket the test has closed must not surface as an unhandled rejection. A send that
 * fails while the socket is open is kept in `errors` for the test to see.
 */
function queuesFor<K extends string>(sockets: Record<K, Sendable>, errors: unknown[]): Record<K, SendQueue> {
  const out = {} as Record<K, SendQueue>;
  for (const ch of Object.keys(sockets) as K[]) {
    const socket = sockets[ch];
    out[ch] = new SendQueue(socket, { name: `peer-${ch}`, logger: silentLogger(), onSendError: (e) => { if (!socket.closed) errors.push(e); } });
  }
  return out;
}

async function readInto(socket: zmq.Socket & AsyncIterable<Buffer[]>, signer: Signer, inbox: Inbox, onRejected?: (reason: string) => void): Promise<void> {
  try {
    for await (const frames of socket) {
      const r = decode(frames, { signer });
      if (r.ok) inbox.push(r.msg);
      else onRejected?.(r.reason);
    }
  } catch {
    // closed
  }
}

/**
 * The backend side: binds the five sockets of `info`. kernel_info_request on shell is
 * answered with a reply and busy/idle on iopub (what BackendLink's handshake waits for);
 * every other request is only recorded in `inbox[channel]` for the test to answer.
 */
export class KernelPeer {
  readonly inbox: Record<ReqChannel, Inbox> = { shell: new Inbox(), control: new Inbox(), stdin: new Inbox() };
  /** Reasons for refused inbound messages (a bad signature means the router signed with the wrong key). */
  readonly rejected: string[] = [];
  readonly signer: Signer;
  readonly session = `kernel-peer-${process.pid}`;
  #sockets: { shell: zmq.Router; control: zmq.Router; stdin: zmq.Router; iopub: zmq.Publisher; hb: zmq.Reply };
  #out: Record<ReqChannel | 'iopub', SendQueue>;
  /** Sends that failed while the socket was open. */
  readonly sendErrors: unknown[] = [];
  #hbAnswering = true;
  #hbHeld: Buffer[] | undefined;

  private constructor(readonly info: ConnectionInfo) {
    // A connection with curve keys (as the manager writes for curve backends): serve as ipykernel
    // 7.4 does, a curve server with that pair on every socket.
    const curve = curveServerOptions(info);
    this.signer = createSigner(info.key, info.signature_scheme);
    this.#sockets = {
      shell: new zmq.Router({ linger: 0, ...curve }),
      control: new zmq.Router({ linger: 0, ...curve }),
      stdin: new zmq.Router({ linger: 0, ...curve }),
      iopub: new zmq.Publisher({ linger: 0, ...curve }),
      hb: new zmq.Reply({ linger: 0, ...curve }),
    };
    const { shell, control, stdin, iopub } = this.#sockets;
    this.#out = queuesFor({ shell, control, stdin, iopub }, this.sendErrors);
  }

  /** Binds fresh loopback ports of `transport`, or exactly those of a given connection. */
  static async start(at: Transport | ConnectionInfo): Promise<KernelPeer> {
    const peer = new KernelPeer(typeof at === 'string' ? await loopbackConnection(at) : at);
    const s = peer.#sockets;
    await Promise.all((Object.keys(s) as (keyof typeof s)[]).map((ch) => s[ch].bind(endpoint(peer.info, ch))));
    for (const ch of ['shell', 'control', 'stdin'] as const) void readInto(s[ch], peer.signer, peer.inbox[ch], (r) => peer.rejected.push(r));
    void (async () => {
      try {
        for await (const frames of s.hb) {
          if (peer.#hbAnswering) await s.hb.send(frames);
          else peer.#hbHeld = frames;
        }
      } catch {
        // closed
      }
    })();
    void peer.#answerKernelInfo();
    return peer;
  }

  /** Stop or resume echoing heartbeats (as a hung backend would). */
  heartbeat(answering: boolean): void {
    this.#hbAnswering = answering;
    // REP must answer before it reads again: the ping that came in while silent goes back late.
    if (answering && this.#hbHeld) this.#sockets.hb.send(this.#hbHeld).catch((e: unknown) => { if (!this.#sockets.hb.closed) this.sendErrors.push(e); });
    this.#hbHeld = undefined;
  }

  /** A reply addressed to whoever sent `request`, with `request` as parent. */
  reply(channel: ReqChannel, request: WireMessage, msgType: string, content: object): void {
    const msg = createMessage({ msgType, content, session: this.session, parentHeader: request.header, identities: request.identities });
    this.#out[channel].push(encode(msg, this.signer));
  }

  /** Raw frames on a request channel, for messages this peer would not sign properly. */
  sendRaw(channel: ReqChannel, frames: Buffer[]): void {
    this.#out[channel].push(frames);
  }

  publish(msgType: string, content: object, parentHeader: object = {}): void {
    const msg = createMessage({ msgType, content, session: this.session, parentHeader, identities: [Buffer.from(msgType)] });
    this.#out.iopub.push(encode(msg, this.signer));
  }

  close(): void {
    for (const q of Object.values(this.#out)) q.close();
    for (const s of Object.values(this.#sockets)) if (!s.closed) s.close();
  }

  async #answerKernelInfo(): Promise<void> {
    for (;;) {
      const request = await this.inbox.shell.next('kernel_info_request');
      this.publish('status', { execution_state: 'busy' }, request.header);
      this.reply('shell', request, 'kernel_info_reply', { status: 'ok', protocol_version: '5.4', implementation: 'kernel-peer' });
      this.publish('status', { execution_state: 'idle' }, request.header);
    }
  }
}

/** The client side: connects to the sockets of `info` as Jupyter's client does (one routing id). */
export class ClientPeer {
  readonly inbox: Record<ReqChannel | 'iopub', Inbox> = { shell: new Inbox(), control: new Inbox(), stdin: new Inbox(), iopub: new Inbox() };
  readonly signer: Signer;
  readonly session = `client-peer-${process.pid}`;
  readonly #sockets: { shell: zmq.Dealer; control: zmq.Dealer; stdin: zmq.Dealer; iopub: zmq.Subscriber; hb: zmq.Request };
  readonly #out: Record<ReqChannel, SendQueue>;
  /** Sends that failed while the socket was open. */
  readonly sendErrors: unknown[] = [];

  constructor(readonly info: ConnectionInfo, routingId = `client-${Math.random().toString(16).slice(2)}`) {
    this.signer = createSigner(info.key, info.signature_scheme);
    const dealer = { routingId, linger: 0 };
    this.#sockets = {
      shell: new zmq.Dealer(dealer),
      control: new zmq.Dealer(dealer),
      stdin: new zmq.Dealer(dealer),
      iopub: new zmq.Subscriber({ linger: 0 }),
      hb: new zmq.Request({ linger: 0 }),
    };
    this.#sockets.iopub.subscribe();
    const s = this.#sockets;
    this.#out = queuesFor({ shell: s.shell, control: s.control, stdin: s.stdin }, this.sendErrors);
    for (const ch of Object.keys(s) as (keyof typeof s)[]) s[ch].connect(endpoint(info, ch));
    for (const ch of ['shell', 'control', 'stdin', 'iopub'] as const) void readInto(s[ch], this.signer, this.inbox[ch]);
  }

  /** Send a request; returns it (its msg_id is the parent of what answers it). */
  request(channel: ReqChannel, msgType: string, content: object, metadata: object = {}): WireMessage {
    const msg = createMessage({ msgType, content, session: this.session, metadata });
    this.#out[channel].push(encode(msg, this.signer));
    return msg;
  }

  sendRaw(channel: ReqChannel, frames: Buffer[]): void {
    this.#out[channel].push(frames);
  }

  /** The reply on `channel` whose parent is `request`. */
  replyTo(channel: ReqChannel, request: WireMessage): Promise<WireMessage> {
    return this.inbox[channel].next((m) => m.parentHeader.msg_id === request.msgId);
  }

  /** iopub messages of one type whose parent is `request`. */
  iopubFor(request: WireMessage, msgType: string): Promise<WireMessage> {
    return this.inbox.iopub.next((m) => m.msgType === msgType && m.parentHeader.msg_id === request.msgId);
  }

  async ping(payload = 'ping'): Promise<string> {
    await this.#sockets.hb.send(payload);
    const [echo] = await this.#sockets.hb.receive();
    return echo!.toString();
  }

  close(): void {
    for (const q of Object.values(this.#out)) q.close();
    for (const s of Object.values(this.#sockets)) if (!s.closed) s.close();
  }
}
