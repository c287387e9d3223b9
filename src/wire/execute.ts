/**
 * Running one cell the way a notebook does: execute_request on shell, then wait for both its
 * execute_reply and the idle status it caused on iopub. The reply travels on another socket
 * than the output and may overtake it, so only idle says that all the output is in.
 */
import { JupyterClientError } from './client-errors.js';
import type { WireMessage } from './codec.js';
import type { JupyterClient } from './client.js';
import type { ExecuteRequest } from './messages.js';

export interface ExecuteOptions extends Partial<Omit<ExecuteRequest, 'code'>> {
  /** Each iopub message of this cell except its statuses, in order. */
  onOutput?: (msg: WireMessage) => void;
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with the request's msg_id as soon as it is sent. */
  onSent?: (msgId: string) => void;
}

export async function executeCell(client: JupyterClient, code: string, options: ExecuteOptions = {}): Promise<WireMessage<'execute_reply'>> {
  const { onOutput, timeoutMs, signal, onSent, ...fields } = options;
  const started = Date.now();
  let msgId = '';
  let idle: () => void = () => undefined;
  const idleSeen = new Promise<void>((resolve) => (idle = resolve));
  // Subscribed before sending; the handler learns msgId before any message can arrive.
  const off = client.onIopub((m) => {
    if (m.parentHeader.msg_id !== msgId) return;
    if (m.msgType !== 'status') onOutput?.(m);
    else if (m.content<{ execution_state: string }>().execution_state === 'idle') idle();
  });
  try {
    const pending = client.start('execute_request', {
      code,
      silent: false,
      store_history: false,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
      ...fields,
    }, { timeoutMs, signal });
    msgId = pending.msgId;
    onSent?.(msgId);
    const reply = await pending.reply;
    await idleOrEnd(idleSeen, { client, signal, timeoutMs: timeoutMs === undefined ? undefined : timeoutMs - (Date.now() - started) });
    return reply;
  } finally {
    off();
  }
}

/** The idle status, unless the client closes, the signal aborts or the cell's time runs out first. */
function idleOrEnd(idle: Promise<void>, options: { client: JupyterClient; signal?: AbortSignal; timeoutMs?: number }): Promise<void> {
  const { client, signal, timeoutMs } = options;
  const context = { msgType: 'execute_request', channel: 'iopub', timeoutMs };
  if (client.closed) return Promise.reject(new JupyterClientError('CLIENT_CLOSED', context));
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = (end: () => void) => {
      clearTimeout(timer);
      offClose();
      signal?.removeEventListener('abort', onAbort);
      end();
    };
    const onAbort = () => finish(() => reject(signal!.reason));
    const offClose = client.whenClosed(() => finish(() => reject(new JupyterClientError('CLIENT_CLOSED', context))));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(() => finish(() => reject(new JupyterClientError('REQUEST_TIMEOUT', context))), Math.max(0, timeoutMs));
    void idle.then(() => finish(resolve));
  });
}
