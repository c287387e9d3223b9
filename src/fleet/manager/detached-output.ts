/**
 * Output that outlives the client: while a backend has no router attached, the manager holds a
 * SUB socket on its iopub (verified with the backend's key, like every hop) and keeps what a
 * returning user wants to see (output-buffer.ts). As soon as a router attaches, the socket is
 * closed: the manager is never in the data path of a backend somebody uses. The buffer stays
 * until a router takes it (once) or the backend is gone.
 *
 * A SUB socket misses what is published before its subscription is live (ZeroMQ's slow
 * joiner), so output printed in the moment the last client leaves can be lost; kernels that
 * greet new subscribers (iopub_welcome, ipykernel 7) tell us when the subscription is live.
 */
import { randomUUID } from 'node:crypto';
import type { DetachedLimits, DetachedOutput, HeldOutputSummary, RunningCell } from '../../shared/detached-output.js';
import type { Logger } from '../../shared/log.js';
import type { JupyterClient } from '../../wire/client.js';
import { DEFAULT_REPLAY_MAX_MB, DEFAULT_REPLAY_MAX_MESSAGES } from '../defaults.js';
import type { ReplayLimits } from '../types.js';
import type { ManagedBackend } from './entry.js';
import { OutputBuffer, entryOf } from './output-buffer.js';

/** Pure: fleet.toml's [replay] as the buffer's bounds (defaults when no config was read). */
export function replayLimits(replay: ReplayLimits | undefined): DetachedLimits {
  const { max_messages = DEFAULT_REPLAY_MAX_MESSAGES, max_mb = DEFAULT_REPLAY_MAX_MB } = replay ?? {};
  return { messages: max_messages, bytes: Math.floor(max_mb * 1024 * 1024) };
}

export interface DetachedOutputsOptions {
  /** Read when a watch starts: the bounds from the config last loaded. */
  limits(): DetachedLimits;
  logger: Logger;
}

/**
 * The Jupyter client (zeromq) loads on first use, not with the manager: it is about half of the
 * manager's module load, which a cold start waits for (issue #12). A watch that begins before it
 * is loaded subscribes a moment later, unless it was ended meanwhile.
 */
let clientModule: Promise<typeof import('../../wire/client.js')> | undefined;
const loadClient = () => (clientModule ??= import('../../wire/client.js'));

/** One watch: its subscription once the client is loaded; `ended` once unwatched (the subscription is then never made, or closed). */
interface Watch {
  client?: JupyterClient;
  ended: boolean;
}

function endWatch(watch: Watch): void {
  watch.ended = true;
  watch.client?.close();
}

export class DetachedOutputs {
  readonly #watching = new Map<string, Watch>();
  readonly #buffers = new Map<string, OutputBuffer>();

  constructor(private readonly options: DetachedOutputsOptions) {}

  /** Nobody is attached to `backend` any more: keep its output from now on. Idempotent. */
  watch(backend: ManagedBackend): void {
    const kernelId = backend.kernelId;
    if (this.#watching.has(kernelId) || backend.state === 'stopping' || backend.state === 'exited') return;
    let buffer = this.#buffers.get(kernelId);
    if (buffer === undefined) {
      buffer = new OutputBuffer(kernelId, this.options.limits(), Date.now());
      this.#buffers.set(kernelId, buffer);
      void backend.gone.then(() => this.forget(kernelId));
    }
    const kept = buffer;
    // A new subscription: live only once it has received something.
    kept.subscribed = false;
    const log = this.options.logger;
    const watch: Watch = { ended: false };
    this.#watching.set(kernelId, watch);
    void loadClient().then(
      ({ JupyterClient }) => {
        if (!watch.ended) watch.client = this.#subscribe(JupyterClient, backend, kept);
      },
      (error: unknown) => log.error({ kernelId, err: String(error) }, 'cannot keep the output of a backend with no client attached'),
    );
  }

  #subscribe(Client: typeof JupyterClient, backend: ManagedBackend, kept: OutputBuffer): JupyterClient {
    const kernelId = backend.kernelId;
    const log = this.options.logger;
    const client = new Client({
      connection: backend.connection,
      channels: ['iopub'],
      // The last router's '' subscription may outlive its release for a moment: then the kernel
      // would not greet ours, and `subscribed` would wait for the cell's next output.
      iopubWelcomeTopic: `llmspell-fleet-manager.${randomUUID()}`,
      logger: log,
      // Anything larger could never be kept: refuse it before it is decoded, count it as dropped.
      maxMessageBytes: kept.limits.bytes + 64 * 1024,
      onRejected: (_channel, reason) => {
        if (reason === 'TOO_LARGE') kept.countDropped();
      },
    });
    client.onIopub((msg) => {
      if (!kept.subscribed) {
        kept.subscribed = true;
        log.info({ kernelId, first: msg.msgType }, 'keeping the output of a backend with no client attached');
      }
      const entry = entryOf({ msgType: msg.msgType, parentHeader: msg.parentHeader, content: msg.content<Record<string, unknown>>(), at: Date.now() });
      if (entry !== undefined) kept.add(entry);
      return undefined;
    });
    return client;
  }

  /** Cells the last router had running: kept with the output they make (only while watching: nobody is attached). */
  noteCells(kernelId: string, cells: readonly RunningCell[]): void {
    const buffer = this.#buffers.get(kernelId);
    if (buffer !== undefined && this.#watching.has(kernelId)) for (const cell of cells) buffer.noteCell(cell);
  }

  /** A router attached: the manager leaves the data path; what was kept waits for take(). */
  unwatch(kernelId: string): void {
    const watch = this.#watching.get(kernelId);
    if (watch === undefined) return;
    this.#watching.delete(kernelId);
    endWatch(watch);
    const buffer = this.#buffers.get(kernelId);
    if (buffer !== undefined) {
      this.options.logger.info({ kernelId, ...buffer.summary() }, 'a client attached; stopped keeping output');
      // A subscription that never saw a message holds nothing: no empty buffer waits for a taker.
      if (buffer.size === 0 && buffer.summary().dropped === 0) this.#buffers.delete(kernelId);
    }
  }

  /** Hands the kept output out once; undefined when there is none. */
  take(kernelId: string): DetachedOutput | undefined {
    const buffer = this.#buffers.get(kernelId);
    if (buffer === undefined || this.#watching.has(kernelId)) return undefined;
    this.#buffers.delete(kernelId);
    return buffer.output();
  }

  summary(kernelId: string): HeldOutputSummary | undefined {
    const summary = this.#buffers.get(kernelId)?.summary();
    return summary && { ...summary, subscribed: summary.subscribed && this.#watching.has(kernelId) };
  }

  forget(kernelId: string): void {
    const watch = this.#watching.get(kernelId);
    if (watch !== undefined) endWatch(watch);
    this.#watching.delete(kernelId);
    this.#buffers.delete(kernelId);
  }

  close(): void {
    for (const watch of this.#watching.values()) endWatch(watch);
    this.#watching.clear();
  }
}
