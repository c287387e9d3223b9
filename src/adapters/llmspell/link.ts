import { randomBytes } from 'node:crypto';
import type { Logger } from '../../shared/log.js';
import { createMessage, type WireMessage } from '../../wire/codec.js';
import type { ConnectionInfo } from '../../wire/connection-file.js';
import { JupyterClient } from '../../wire/client.js';
import { HeartbeatClient } from '../../wire/heartbeat-client.js';
import { parseIopub, type LlmspellEvent } from './dialect.js';
import { Fence, stripMarkers } from './fence.js';

const MARKER_PREFIX = '@@llmspell-fleet-fence:';
/** How long after the fence's idle its marker may still come (it is late by microseconds when it is). */
const MARKER_GRACE_MS = 2000;

/** llmspell answers only this routing id (its own in-process client's); any other gets nothing. */
export const LLMSPELL_ROUTING_ID = 'inprocess_client';

/** Returns true when the execution it watches is over (llmspell went idle). */
export type EventSink = (event: LlmspellEvent) => boolean;

/** llmspell's one-frame iopub read into a WireMessage, so the one Jupyter client can carry it. */
export function decodeLlmspellIopub(frames: Buffer[]): WireMessage | undefined {
  const event = parseIopub(frames);
  return event === undefined ? undefined : createMessage({ msgType: event.msgType, content: event.content, session: 'llmspell' });
}

/**
 * The adapter's one connection to llmspell, on the project's Jupyter client: shell with the only
 * routing id llmspell answers, iopub through a decoder for its dialect, and the heartbeat. The
 * adapter runs one execution at a time, so iopub belongs to whoever holds the sink; llmspell's
 * parent_header is always null and cannot say.
 */
export class LlmspellLink {
  readonly #client: JupyterClient;
  readonly #heartbeat: HeartbeatClient;
  #sink: EventSink | undefined;
  #sinkDone: (() => void) | undefined;

  constructor(info: ConnectionInfo, private readonly logger: Logger) {
    this.#client = new JupyterClient({
      connection: info,
      routingId: LLMSPELL_ROUTING_ID,
      channels: ['shell', 'iopub'],
      logger,
      decodeIopub: decodeLlmspellIopub,
      // llmspell signs nothing on iopub and re-publishes no signature twice: nothing to guard.
      replayGuard: false,
      onRejected: (channel, reason) => logger.warn({ channel, reason }, 'llmspell message refused'),
    });
    this.#heartbeat = new HeartbeatClient({ connection: info });
    this.#client.onIopub((msg) => {
      const event: LlmspellEvent = { msgType: msg.msgType, content: msg.content<Record<string, unknown>>() };
      if (this.#sink === undefined) {
        this.logger.debug({ msgType: event.msgType }, 'llmspell iopub outside an execution');
        return;
      }
      if (this.#sink(event)) this.#sinkDone?.();
    });
  }

  /** llmspell's kernel_info content, or undefined when it did not answer within `timeoutMs`. */
  async kernelInfo(timeoutMs: number): Promise<Record<string, unknown> | undefined> {
    try {
      const reply = await this.#client.request('kernel_info_request', {}, { timeoutMs: Math.max(1, timeoutMs) });
      return reply.content<Record<string, unknown>>();
    } catch {
      return undefined;
    }
  }

  /**
   * Runs `code` and hands every iopub event to `sink` until it says the execution is over.
   * Resolves then, or rejects when `signal` aborts (llmspell died, the adapter is closing).
   * llmspell sends no execute_reply, so the request is posted, not awaited.
   */
  async execute(code: string, sink: EventSink, signal: AbortSignal): Promise<void> {
    if (this.#sink !== undefined) throw new Error('LlmspellLink.execute: an execution is already running');
    signal.throwIfAborted();
    const fence = new Fence(`${MARKER_PREFIX}${randomBytes(6).toString('hex')}@@`);
    let cellOver = false;
    let giveUp: NodeJS.Timeout | undefined;
    const done = new Promise<void>((resolve, reject) => {
      const deliver = (events: LlmspellEvent[]): void => {
        for (const e of events) if (!cellOver) cellOver = sink(e);
      };
      this.#sink = (event) => {
        if (event.msgType === 'stream' && typeof event.content.text === 'string' && event.content.text.includes(MARKER_PREFIX)) {
          event = { ...event, content: { ...event.content, text: stripMarkers(event.content.text, MARKER_PREFIX, fence.marker) } };
          if (event.content.text === '') return false;
        }
        const { forward, over } = fence.accept(event);
        deliver(forward);
        if (!over && fence.waitingForMarker && giveUp === undefined) {
          // Both executions are over; a marker that never comes must not hang the cell.
          giveUp = setTimeout(() => {
            deliver(fence.giveUp());
            resolve();
          }, MARKER_GRACE_MS);
        }
        return over;
      };
      this.#sinkDone = resolve;
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    try {
      const content = { silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: false };
      this.#client.post('shell', 'execute_request', { code, ...content });
      this.#client.post('shell', 'execute_request', { code: fence.code, ...content });
      await done;
    } finally {
      clearTimeout(giveUp);
      this.#sink = undefined;
      this.#sinkDone = undefined;
    }
  }

  /** True when llmspell's heartbeat echoes within `timeoutMs` (it never does while a cell runs). */
  async ping(timeoutMs: number): Promise<boolean> {
    return (await this.#heartbeat.ping(timeoutMs).catch(() => undefined)) !== undefined;
  }

  close(): void {
    this.#client.close();
    this.#heartbeat.close();
  }
}
