import { randomUUID } from 'node:crypto';
import * as zmq from 'zeromq';
import { createMessage, decode, encode, type WireMessage } from '../src/wire/codec.js';
import { endpoint, type ConnectionInfo } from '../src/wire/connection-file.js';
import { createSigner, type Signer } from '../src/wire/sign.js';

/**
 * A minimal Jupyter client for the benchmark: one shell DEALER and one iopub SUB, speaking the
 * wire format through src/wire. Measurement only; tests use real Jupyter clients.
 */
export class BenchClient {
  readonly session = randomUUID();
  readonly shell: zmq.Dealer;
  readonly iopub: zmq.Subscriber;
  readonly signer: Signer;
  #replies = new Map<string, (m: WireMessage) => void>();
  #iopubHandlers = new Set<(m: WireMessage) => void>();

  constructor(readonly info: ConnectionInfo) {
    this.signer = createSigner(info.key, info.signature_scheme);
    this.shell = new zmq.Dealer({ routingId: this.session, linger: 0, receiveHighWaterMark: 0, sendHighWaterMark: 0 });
    this.iopub = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 0 });
    this.iopub.subscribe();
    this.shell.connect(endpoint(info, 'shell'));
    this.iopub.connect(endpoint(info, 'iopub'));
    void this.#read();
    void this.#readIopub();
  }

  request(msgType: string, content: object): { msgId: string; reply: Promise<WireMessage> } {
    const msg = createMessage({ msgType, content, session: this.session });
    const reply = new Promise<WireMessage>((resolve) => this.#replies.set(msg.msgId, resolve));
    void this.shell.send(encode(msg, this.signer));
    return { msgId: msg.msgId, reply };
  }

  onIopub(handler: (m: WireMessage) => void): () => void {
    this.#iopubHandlers.add(handler);
    return () => this.#iopubHandlers.delete(handler);
  }

  /** Execute and wait for both the reply and the idle status, as a notebook does. */
  async execute(code: string, onOutput?: (m: WireMessage) => void): Promise<WireMessage> {
    let msgId = '';
    let idle!: () => void;
    const idleSeen = new Promise<void>((resolve) => (idle = resolve));
    const off = this.onIopub((m) => {
      if (m.parentHeader.msg_id !== msgId) return;
      if (m.msgType === 'status' && m.content<{ execution_state: string }>().execution_state === 'idle') idle();
      else onOutput?.(m);
    });
    const r = this.request('execute_request', { code, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true });
    msgId = r.msgId;
    const [reply] = await Promise.all([r.reply, idleSeen]);
    off();
    return reply;
  }

  /** kernel_info until a reply and some iopub traffic arrive: jupyter_client's readiness rule. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let iopubSeen = false;
    const off = this.onIopub(() => (iopubSeen = true));
    while (Date.now() < deadline) {
      const { reply } = this.request('kernel_info_request', {});
      const ok = await Promise.race([reply.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 1000))]);
      if (ok) {
        const t = Date.now();
        while (!iopubSeen && Date.now() - t < 1000) await new Promise((r) => setTimeout(r, 10));
        if (iopubSeen) { off(); return; }
      }
    }
    off();
    throw new Error('kernel not ready in time');
  }

  close(): void {
    this.shell.close();
    this.iopub.close();
  }

  async #read(): Promise<void> {
    try {
      for await (const frames of this.shell) {
        const r = decode(frames, { signer: this.signer });
        if (!r.ok) continue;
        const id = r.msg.parentHeader.msg_id;
        const resolve = id ? this.#replies.get(id) : undefined;
        if (resolve) { this.#replies.delete(id!); resolve(r.msg); }
      }
    } catch { /* closed */ }
  }

  async #readIopub(): Promise<void> {
    try {
      for await (const frames of this.iopub) {
        const r = decode(frames, { signer: this.signer });
        if (!r.ok) continue;
        for (const h of this.#iopubHandlers) h(r.msg);
      }
    } catch { /* closed */ }
  }
}
