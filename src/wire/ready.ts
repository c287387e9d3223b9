/**
 * Waiting for a kernel to answer, on top of JupyterClient: a request sent again every
 * `resendMs` (as jupyter_client's wait_for_ready does, since a request sent before the kernel
 * bound its socket may be lost) and jupyter_client's readiness rule built on it.
 */
import { JupyterClientError } from './client-errors.js';
import type { WireMessage } from './codec.js';
import type { JupyterClient } from './client.js';
import type { RequestContentOf } from './client-types.js';
import type { ReplyTypeOf } from './messages.js';

export interface ResendOptions {
  /** Total time to keep asking. */
  timeoutMs: number;
  /** A new request this often. Default 1000. */
  resendMs?: number;
  /** Aborting rejects with the signal's reason. */
  signal?: AbortSignal;
  channel?: 'shell' | 'control';
  /** Asked after each unanswered round; true ends the wait with 'gave-up'. */
  giveUp?: () => Promise<boolean>;
}

/**
 * The first reply to any of the rounds' requests (a reply to an earlier, resent one proves the
 * kernel answers just as well), 'gave-up', or undefined when none came within `timeoutMs`.
 * Requests still unanswered at the end stop waiting; their late replies go to onUnmatched.
 */
export async function requestUntilAnswered<T extends string>(
  client: JupyterClient,
  msgType: T,
  content: RequestContentOf<T>,
  options: ResendOptions,
): Promise<WireMessage<ReplyTypeOf<T>> | 'gave-up' | undefined> {
  const { timeoutMs, resendMs = 1000, signal, channel, giveUp } = options;
  const rounds = new AbortController();
  const roundSignal = signal === undefined ? rounds.signal : AbortSignal.any([signal, rounds.signal]);
  const deadline = Date.now() + timeoutMs;
  let answer: WireMessage<ReplyTypeOf<T>> | undefined;
  let wake: () => void = () => undefined;
  try {
    while (answer === undefined && Date.now() < deadline) {
      signal?.throwIfAborted();
      const answered = new Promise<void>((resolve) => (wake = resolve));
      client.request(msgType, content, { channel, signal: roundSignal }).then(
        (reply) => {
          answer ??= reply;
          wake();
        },
        () => undefined,
      );
      await settledWithin(answered, Math.min(resendMs, deadline - Date.now()), signal);
      if (answer === undefined && giveUp !== undefined && (await giveUp())) return 'gave-up';
    }
    return answer;
  } finally {
    rounds.abort();
  }
}

export interface ReadyOptions {
  timeoutMs: number;
  resendMs?: number;
  signal?: AbortSignal;
  /**
   * After the kernel_info_reply, how long to go on asking for iopub traffic (each request's
   * busy/idle statuses prove the subscription). Default: the rest of timeoutMs, and none is
   * an error. Set it to tolerate kernels that publish no status: then ready without iopub.
   */
  iopubWaitMs?: number;
}

export interface Ready {
  kernelInfo: WireMessage<'kernel_info_reply'>;
  /** False only when iopubWaitMs ran out first. */
  iopubSeen: boolean;
}

/**
 * jupyter_client's readiness rule: a kernel_info_reply on shell AND some iopub message, the
 * proof that our subscription reached the publisher (statuses sent before it did are lost, so
 * kernel_info is asked again, at short intervals, until one shows up).
 */
export async function waitForReady(client: JupyterClient, options: ReadyOptions): Promise<Ready> {
  const { timeoutMs, resendMs = 1000, signal } = options;
  const started = Date.now();
  let iopubSeen = false;
  let sawIopub: () => void = () => undefined;
  const off = client.onIopub(() => {
    iopubSeen = true;
    sawIopub();
  });
  try {
    const reply = await requestUntilAnswered(client, 'kernel_info_request', {}, { timeoutMs, resendMs, signal });
    if (reply === undefined || reply === 'gave-up') {
      throw new JupyterClientError('REQUEST_TIMEOUT', { msgType: 'kernel_info_request', channel: 'shell', timeoutMs });
    }
    const remaining = timeoutMs - (Date.now() - started);
    const iopubDeadline = Date.now() + Math.min(remaining, options.iopubWaitMs ?? remaining);
    while (!iopubSeen && Date.now() < iopubDeadline) {
      const seen = new Promise<void>((resolve) => (sawIopub = resolve));
      client.request('kernel_info_request', {}, { signal, timeoutMs: Math.max(1, iopubDeadline - Date.now()) }).catch(() => undefined);
      await settledWithin(seen, Math.min(100, Math.max(0, iopubDeadline - Date.now())), signal);
    }
    if (!iopubSeen && options.iopubWaitMs === undefined) throw new JupyterClientError('IOPUB_SILENT', { timeoutMs });
    return { kernelInfo: reply, iopubSeen };
  } finally {
    off();
  }
}

/** Waits for `promise` at most `ms`; rejects with the signal's reason on abort. */
function settledWithin(promise: Promise<void>, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, Math.max(0, ms));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    void promise.then(() => {
      done();
      resolve();
    });
  });
}
