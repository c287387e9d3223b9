import { randomUUID } from 'node:crypto';
import type { Logger } from '../shared/log.js';
import { JupyterClient } from '../wire/client.js';
import type { RejectReason, WireMessage } from '../wire/codec.js';
import { HeartbeatMonitor } from '../wire/heartbeat-monitor.js';
import { waitForReady } from '../wire/ready.js';
import type { Signer } from '../wire/sign.js';
import { IOPUB_HWM } from './sockets.js';
import type { BackendLease } from './types.js';

export type RequestChannel = 'shell' | 'control' | 'stdin';

export interface BackendLinkOptions {
  lease: BackendLease;
  logger: Logger;
  maxMessageBytes?: number;
  /** A reply or input_request addressed to a client (routing ids present). */
  onClientBound: (channel: RequestChannel, msg: WireMessage) => void;
  /** An iopub message to broadcast (the link has already dropped the router's own traffic). */
  onIopub: (msg: WireMessage) => void;
  /** Backpressure: a promise to await before reading the next iopub message, or undefined to go on. */
  iopubRoom?: () => Promise<void> | undefined;
  onRejected: (channel: string, reason: RejectReason) => void;
  /** A properly signed backend message over maxMessageBytes (already counted as rejected). */
  onOversized?: (channel: RequestChannel | 'iopub', msg: WireMessage, bytes: number) => void;
  /** Silence on the backend's hb for this long counts as unresponsive (default 2500 ms). */
  heartbeatTimeoutMs?: number;
  onHeartbeat?: (responsive: boolean, silentMs: number) => void;
}

/**
 * The router's connection to one backend kernel: verifies everything the backend sends with
 * the backend's key, signs everything sent to it with that key, and answers the router's own
 * requests (readiness probe, shutdown) without involving any client.
 */
export class BackendLink {
  readonly routingId = `llmspell-fleet-${randomUUID()}`;
  readonly client: JupyterClient;
  readonly heartbeat: HeartbeatMonitor;

  constructor(private readonly options: BackendLinkOptions) {
    const info = options.lease.connection;
    this.client = new JupyterClient({
      connection: info,
      routingId: this.routingId,
      logger: options.logger,
      maxMessageBytes: options.maxMessageBytes,
      iopubHighWaterMark: IOPUB_HWM,
      sendQueueCapacity: 1_000_000,
      onRejected: (channel, reason, oversized) => {
        options.onRejected(`backend.${channel}`, reason as RejectReason);
        // Our own requests' oversized replies stay here like the rest of our traffic.
        const parent = oversized?.msg.parentHeader.msg_id;
        if (oversized && !(parent !== undefined && this.client.sentHere(parent))) options.onOversized?.(channel, oversized.msg, oversized.bytes);
      },
      // Client routing ids present: a reply or input_request for a client. None: a late reply of ours.
      onUnmatched: (channel, msg) => {
        if (msg.identities.length > 0) options.onClientBound(channel, msg);
      },
    });
    this.client.onIopub((msg) => {
      // The router publishes its own welcome to each client; the backend's is for us alone.
      if (msg.msgType === 'iopub_welcome') return undefined;
      const parentId = msg.parentHeader.msg_id;
      if (parentId !== undefined && this.client.sentHere(parentId)) return undefined;
      options.onIopub(msg);
      return options.iopubRoom?.();
    });
    this.heartbeat = new HeartbeatMonitor({ connection: info, logger: options.logger, timeoutMs: options.heartbeatTimeoutMs, onChange: options.onHeartbeat });
    this.heartbeat.start();
  }

  get signer(): Signer {
    return this.client.signer;
  }

  get session(): string {
    return this.client.session;
  }

  /** Forward a verified client message: same bytes, signed with the backend's key. */
  forward(channel: RequestChannel, msg: WireMessage): void {
    this.client.forward(channel, msg);
  }

  /** Send a request of the router's own; resolves with its reply (never rejects: the link closes quietly). */
  request(channel: 'shell' | 'control', msgType: string, content: object): Promise<WireMessage> {
    return this.client.request(msgType, content, { channel }).catch(() => new Promise<never>(() => undefined));
  }

  /**
   * Ready means what it means to jupyter_client: a kernel_info_reply on shell AND proof that
   * our iopub subscription is live (2 s at most: some kernels send no status at all).
   */
  async handshake(signal: AbortSignal, retryMs = 500): Promise<void> {
    await waitForReady(this.client, { timeoutMs: 2 ** 31 - 1, resendMs: retryMs, signal, iopubWaitMs: 2000 });
  }

  close(): void {
    this.heartbeat.close();
    this.client.close();
  }
}
