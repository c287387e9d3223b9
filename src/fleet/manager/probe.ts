/**
 * Asking a backend whether it answers: a kernel_info round trip on shell (readiness) and an
 * hb echo (health). The manager is never in the data path; these are its own short-lived
 * clients, closed as soon as the answer (or the deadline) is in.
 */
import { JupyterClient } from '../../wire/client.js';
import type { ConnectionInfo } from '../../wire/connection-file.js';
import { pingHeartbeat } from '../../wire/heartbeat-client.js';
import { requestUntilAnswered, type ResendOptions } from '../../wire/ready.js';

export { pingHeartbeat };

const PROBE_RECONNECT_MS = 10;

/** How the backend showed it is up; 'heartbeat' is the fallback described at waitUntilAnswering. */
export type ReadyEvidence = 'kernel-info' | 'heartbeat';

export interface AnswerWaitOptions {
  timeoutMs: number;
  /** Aborting closes the probe's client; the wait then rejects with the signal's reason. */
  signal?: AbortSignal;
  /** A new kernel_info_request this often, as jupyter_client's wait_for_ready does. Default 1000. */
  resendMs?: number;
  /**
   * After this long without a kernel_info_reply, a backend that echoes heartbeats counts as up.
   * llmspell addresses its shell replies to a fixed routing id, so our probe never gets one;
   * its sockets are bound and serving, which is all a router needs. Default 10000.
   */
  heartbeatGraceMs?: number;
}

/** Resolves with how the backend answered, or 'timeout'. */
export async function waitUntilAnswering(info: ConnectionInfo, options: AnswerWaitOptions): Promise<ReadyEvidence | 'timeout'> {
  const { heartbeatGraceMs = 10_000, resendMs = 1000 } = options;
  const started = Date.now();
  const hbAnswers = async () =>
    Date.now() - started >= heartbeatGraceMs && (await pingHeartbeat(info, Math.min(resendMs, 1000))) !== undefined;
  const answer = await askKernelInfo(info, { ...options, giveUp: hbAnswers });
  if (answer === 'gave-up') return 'heartbeat';
  return answer === undefined ? 'timeout' : 'kernel-info';
}

/** The content of the backend's kernel_info_reply, or undefined when none came within `timeoutMs`. */
export async function requestKernelInfo(
  info: ConnectionInfo,
  options: { timeoutMs: number; signal?: AbortSignal; resendMs?: number },
): Promise<Record<string, unknown> | undefined> {
  const answer = await askKernelInfo(info, options);
  return answer === 'gave-up' ? undefined : answer;
}

async function askKernelInfo(info: ConnectionInfo, options: ResendOptions): Promise<Record<string, unknown> | 'gave-up' | undefined> {
  options.signal?.throwIfAborted();
  // A starting backend refuses connects until it binds; zeromq's default 100 ms retry would
  // round every start up to that grid, on the path of every cold start.
  const client = new JupyterClient({ connection: info, channels: ['shell'], reconnectIntervalMs: PROBE_RECONNECT_MS });
  try {
    // A new message each round: a kernel may reject a signature it has already seen.
    const reply = await requestUntilAnswered(client, 'kernel_info_request', {}, options);
    return reply === 'gave-up' || reply === undefined ? reply : reply.content();
  } finally {
    client.close();
  }
}
