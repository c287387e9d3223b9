/**
 * Interrupt a backend's running cell from outside any notebook (the `interrupt` op), in the
 * backend's own interrupt mode, as the router's lease does: SIGINT to its process group for
 * "signal", an interrupt_request on its control channel for "message".
 */
import { FleetError, isFleetError } from '../../shared/errors.js';
import type { InterruptMode } from '../../shared/requirement.js';
import { JupyterClient } from '../../wire/client.js';
import type { ManagedBackend } from './entry.js';
import { killGroup } from './proc.js';

/** How long a "message" backend may take to answer interrupt_request. */
export const INTERRUPT_REPLY_TIMEOUT_MS = 10_000;

export interface Interrupted {
  interrupted: string;
  mode: InterruptMode;
}

export async function interruptBackend(backend: ManagedBackend, timeoutMs = INTERRUPT_REPLY_TIMEOUT_MS): Promise<Interrupted> {
  const { kernelId } = backend;
  if (backend.state !== 'ready') {
    throw new FleetError('BACKEND_NOT_READY', `backend ${kernelId} is ${backend.state}; only a ready backend can be interrupted`, { kernelId, state: backend.state });
  }
  const mode = backend.init.interruptMode;
  if (mode === 'signal') {
    // Same process group, same incarnation: never signal a reused pid.
    if (!killGroup(backend.pid, 'SIGINT', backend.init.procStart)) {
      throw new FleetError('BACKEND_EXITED', `backend ${kernelId} (pid ${backend.pid}) is gone; see \`llmspell-fleet list\``, { kernelId });
    }
    return { interrupted: kernelId, mode };
  }
  // Its own short-lived client: a control DEALER signed with the backend's key.
  const client = new JupyterClient({ connection: backend.connection, channels: ['control'] });
  try {
    await client.request('interrupt_request', {}, { channel: 'control', timeoutMs });
  } catch (error) {
    // Not the fleet's failure: the backend did not answer in time (the HTTP API says 504).
    if (isFleetError(error) && error.code === 'REQUEST_TIMEOUT') {
      throw new FleetError(
        'REQUEST_TIMEOUT',
        `backend ${kernelId} did not answer interrupt_request within ${timeoutMs / 1000} s: it may be hung; restart it (the dashboard's restart button, or POST /api/v1/backends/${kernelId}/restart) or stop it (\`llmspell-fleet stop ${kernelId}\`)`,
        { kernelId, timeoutMs },
        { cause: error },
      );
    }
    throw error;
  } finally {
    client.close();
  }
  return { interrupted: kernelId, mode };
}
