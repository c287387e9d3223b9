/**
 * Why a JupyterClient request did not get its reply. Codes are public API, like FleetError's;
 * an aborted request rejects with its signal's reason instead, as AbortSignal users expect.
 */
export type JupyterClientErrorCode =
  /** No reply within the request's timeoutMs. */
  | 'REQUEST_TIMEOUT'
  /** The client was closed while the request waited (or before it was made). */
  | 'CLIENT_CLOSED'
  /** The socket's send queue was full: the kernel is not reading, or the caller sends too fast. */
  | 'QUEUE_FULL'
  /** The request named a channel this client was not asked to open. */
  | 'CHANNEL_NOT_OPEN'
  /** waitForReady: kernel_info was answered but nothing came on iopub. */
  | 'IOPUB_SILENT';

export type JupyterClientErrorContext = {
  readonly msgType?: string;
  readonly msgId?: string;
  readonly channel?: string;
  readonly timeoutMs?: number;
};

import { FleetError } from '../shared/errors.js';

const brand = Symbol.for('llmspell-fleet.jupyter-client-error');

/** A FleetError (one error family for the project) whose code and context are the client's own. */
export class JupyterClientError extends FleetError {
  readonly [brand] = true;
  override readonly name = 'JupyterClientError';
  declare readonly code: JupyterClientErrorCode;
  declare readonly context: JupyterClientErrorContext;
  constructor(code: JupyterClientErrorCode, context: JupyterClientErrorContext = {}) {
    super(code, describe(code, context), context);
  }
}

export function isJupyterClientError(value: unknown): value is JupyterClientError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

function describe(code: JupyterClientErrorCode, c: JupyterClientErrorContext): string {
  const what = `${c.msgType ?? 'request'}${c.channel ? ` on ${c.channel}` : ''}`;
  switch (code) {
    case 'REQUEST_TIMEOUT':
      return `no reply to ${what} within ${c.timeoutMs} ms: the kernel is busy, gone, or answers another routing id`;
    case 'CLIENT_CLOSED':
      return `${what} ended: the Jupyter client was closed`;
    case 'QUEUE_FULL':
      return `${what} not sent: the send queue is full (the kernel is not reading)`;
    case 'IOPUB_SILENT':
      return `the kernel answered kernel_info but published nothing on iopub within ${c.timeoutMs} ms: check its iopub port`;
    case 'CHANNEL_NOT_OPEN':
      return `${what} not sent: this client did not open ${c.channel ?? 'that channel'} (add it to channels)`;
  }
}
