/**
 * A spare's startup code (issue #12): what `[pool]` says each spare runs before it is offered.
 */
import { FleetError } from '../../shared/errors.js';
import { JupyterClient } from '../../wire/client.js';
import type { FleetConfig } from '../types.js';
import type { ManagedBackend } from './entry.js';

/**
 * One silent execute_request on the spare's shell, so the first cell of its user does not pay
 * for the imports. Silent: no output on iopub, no execution count, no history.
 */
export async function runStartupCode(backend: ManagedBackend, code: string, timeoutMs: number): Promise<void> {
  const client = new JupyterClient({ connection: backend.connection, channels: ['shell'] });
  try {
    const reply = await client.request(
      'execute_request',
      { code, silent: true, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true },
      { timeoutMs },
    );
    const content = reply.content<{ status: string; ename?: string; evalue?: string }>();
    if (content.status !== 'ok') {
      throw new FleetError('POOL_STARTUP_FAILED', `${content.ename ?? content.status}: ${content.evalue ?? ''}`.trim(), { kernelId: backend.kernelId });
    }
  } finally {
    client.close();
  }
}

/** How long the startup code may run: the runtime's startup_timeout (60 s unless set). */
export function startupTimeoutMs(config: FleetConfig, runtime: string): number {
  const seconds = Object.hasOwn(config.runtimes, runtime) ? config.runtimes[runtime]!.startup_timeout : undefined;
  return (seconds ?? 60) * 1000;
}
