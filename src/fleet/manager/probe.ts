/**
 * Asking a backend whether it answers: a kernel_info round trip on shell (readiness) and an
 * hb echo (health). The manager is never in the data path; these are its own short-lived
 * sockets, closed as soon as the answer (or the deadline) is in.
 */
import { randomUUID } from 'node:crypto';
import * as zmq from 'zeromq';
import { createMessage, decode, encode } from '../../wire/codec.js';
import { endpoint, type ConnectionInfo } from '../../wire/connection-file.js';
import { createSigner, type Signer } from '../../wire/sign.js';

/** How the backend showed it is up; 'heartbeat' is the fallback described at waitUntilAnswering. */
export type ReadyEvidence = 'kernel-info' | 'heartbeat';

export interface AnswerWaitOptions {
  timeoutMs: number;
  /** Aborting closes the probe socket; the wait then rejects with the signal's reason. */
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

interface AskOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  resendMs?: number;
  /** Asked after each unanswered round; true ends the wait with 'gave-up'. */
  giveUp?: () => Promise<boolean>;
}

async function askKernelInfo(info: ConnectionInfo, options: AskOptions): Promise<Record<string, unknown> | 'gave-up' | undefined> {
  const { timeoutMs, signal, resendMs = 1000, giveUp } = options;
  signal?.throwIfAborted();
  const signer = createSigner(info.key, info.signature_scheme);
  const session = randomUUID();
  const socket = new zmq.Dealer({ linger: 0, receiveTimeout: resendMs, sendTimeout: resendMs });
  const onAbort = () => socket.close();
  signal?.addEventListener('abort', onAbort, { once: true });
  const deadline = Date.now() + timeoutMs;
  try {
    socket.connect(endpoint(info, 'shell'));
    while (Date.now() < deadline) {
      // A new message each round: a kernel may reject a signature it has already seen.
      const request = createMessage({ msgType: 'kernel_info_request', content: {}, session });
      try {
        await socket.send(encode(request, signer, []));
        const content = await replyContent(socket, signer, deadline);
        if (content !== undefined) return content;
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if ((error as { code?: string }).code !== 'EAGAIN') throw error;
      }
      if (giveUp !== undefined && (await giveUp())) return 'gave-up';
    }
    return undefined;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!socket.closed) socket.close();
  }
}

/** A verified kernel_info_reply's content; throws EAGAIN when the socket's receive timeout passes. */
async function replyContent(socket: zmq.Dealer, signer: Signer, deadline: number): Promise<Record<string, unknown> | undefined> {
  // A reply to an earlier (resent) request proves the kernel is up just as well.
  while (Date.now() < deadline) {
    const decoded = decode(await socket.receive(), { signer });
    if (decoded.ok && decoded.msg.msgType === 'kernel_info_reply') return decoded.msg.content();
  }
  return undefined;
}

/**
 * One hb echo: the round trip in ms, or undefined when none came back within `timeoutMs`.
 * A fresh REQ socket each time, so a lost reply never wedges the next check.
 */
export async function pingHeartbeat(info: ConnectionInfo, timeoutMs: number): Promise<number | undefined> {
  const socket = new zmq.Request({ linger: 0, receiveTimeout: timeoutMs, sendTimeout: timeoutMs });
  const started = performance.now();
  try {
    socket.connect(endpoint(info, 'hb'));
    const payload = Buffer.from(randomUUID());
    await socket.send(payload);
    const [echo] = await socket.receive();
    return echo !== undefined && echo.equals(payload) ? Math.round(performance.now() - started) : undefined;
  } catch {
    return undefined;
  } finally {
    socket.close();
  }
}
