import { errorReplyContent, fleetKernelInfo } from './replies.js';

/**
 * What the router answers in a backend's place when no backend will (it cannot start, it died,
 * the request was too large): for each request type of the messaging spec, a reply that uses
 * only the statuses and fields the spec allows for it, so that no client warns. An error
 * status is allowed by the spec for most replies, but clients treat it as a fault of theirs
 * (jupyter_console: "invalid is_complete_reply status: error") or show it on every keystroke;
 * where "nothing known" can be said exactly, it is. The reason reaches the user as a notice.
 *
 * The spec's requests: execute, inspect, complete, history, is_complete, comm_info, kernel_info
 * (shell); debug and the subshell requests (control); connect (deprecated); shutdown and
 * interrupt, which the router answers itself (always ok). Those without an empty form here
 * (connect, the subshell requests, usage_request when no backend is measured, a kernel's own)
 * get the spec's generic error reply, which their replies allow. stdin and messages that are
 * not requests get nothing.
 */

export type UnavailableReply =
  | { readonly kind: 'reply'; readonly msgType: string; readonly content: object }
  /** execute_reply error, with the error also shown in the cell; the caller adds execution_count. */
  | { readonly kind: 'execute-error'; readonly content: object }
  | { readonly kind: 'none' };

type Builder = (request: Record<string, unknown>, reason: string) => object;

/** Reply content per request type: the spec's shape for "nothing to say". */
const REPLIES: Readonly<Record<string, Builder>> = {
  // kernel_info: a reply that lets the client connect, with the reason in its banner.
  kernel_info_request: (_r, reason) => fleetKernelInfo(`llmspell-fleet: ${reason}`),
  // The spec's fourth answer, for kernels that cannot tell; clients fall back to their own rules.
  is_complete_request: () => ({ status: 'unknown' }),
  // No matches, replacing nothing: the range is empty at the cursor.
  complete_request: (r) => {
    const cursor = cursorPos(r);
    return { status: 'ok', matches: [], cursor_start: cursor, cursor_end: cursor, metadata: {} };
  },
  inspect_request: () => ({ status: 'ok', found: false, data: {}, metadata: {} }),
  history_request: () => ({ status: 'ok', history: [] }),
  comm_info_request: () => ({ status: 'ok', comms: {} }),
  // A Debug Adapter Protocol response saying the command failed (debug_reply carries DAP, not a status).
  debug_request: (r, reason) => ({
    type: 'response',
    request_seq: typeof r.seq === 'number' ? r.seq : 0,
    success: false,
    command: typeof r.command === 'string' ? r.command : '',
    message: reason,
  }),
};

/** The request types answered with an empty reply rather than an error (for tests and docs). */
export const EMPTY_REPLY_TYPES: readonly string[] = Object.keys(REPLIES);

/**
 * The router's reply to `msgType` when no backend will answer. `content` is read only for the
 * few types whose reply echoes part of the request (complete: the cursor; debug: seq, command).
 */
export function unavailableReply(msgType: string, content: () => Record<string, unknown>, reason: string): UnavailableReply {
  if (!msgType.endsWith('_request')) return { kind: 'none' };
  if (msgType === 'execute_request') return { kind: 'execute-error', content: errorReplyContent('FleetError', reason) };
  const replyType = msgType.replace(/_request$/, '_reply');
  const build = REPLIES[msgType];
  if (build) return { kind: 'reply', msgType: replyType, content: build(safe(content), reason) };
  // Not a spec request with an empty form (connect, usage, a kernel's own): the spec's error reply.
  return { kind: 'reply', msgType: replyType, content: errorReplyContent('FleetError', reason) };
}

/** The request's cursor_pos; the spec's default when missing is the end of the code (jupyter_client does the same). */
function cursorPos(request: Record<string, unknown>): number {
  if (typeof request.cursor_pos === 'number' && Number.isInteger(request.cursor_pos) && request.cursor_pos >= 0) return request.cursor_pos;
  return typeof request.code === 'string' ? [...request.code].length : 0;
}

/** Content that is not a JSON object is read as empty: the reply must go out all the same. */
function safe(content: () => Record<string, unknown>): Record<string, unknown> {
  try {
    const value = content();
    return typeof value === 'object' && value !== null ? value : {};
  } catch {
    return {};
  }
}
