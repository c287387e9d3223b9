/**
 * What the relay counts of a message (RelayCounts, src/shared/relay-counts.ts): its size and,
 * for an execute_reply, how the execution ended. Pure; the size is summed from the frames the
 * message already holds, without copying them.
 */
import { executionStatus, type ExecutionStatus } from '../shared/relay-counts.js';
import type { WireMessage } from '../wire/codec.js';

/** Header, parent header, metadata, content and buffers: what was relayed, without routing ids and signature. */
export function payloadBytes(msg: WireMessage): number {
  const { signed, buffers } = msg.parts;
  let n = 0;
  for (let i = 0; i < signed.length; i++) n += signed[i]!.length;
  for (let i = 0; i < buffers.length; i++) n += buffers[i]!.length;
  return n;
}

/** The status an execute_reply gives; a reply whose content is not JSON counts as an error. */
export function replyStatus(msg: WireMessage): ExecutionStatus {
  try {
    return executionStatus(msg.content<{ status?: unknown }>().status);
  } catch {
    return 'error';
  }
}
