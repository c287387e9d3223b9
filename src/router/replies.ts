import type { ExecutionState } from '../wire/messages.js';
import { VERSION } from '../shared/package.js';
import { PROTOCOL_VERSION } from '../wire/messages.js';

/** Contents of the few messages the router speaks itself. */

export function statusContent(state: ExecutionState): object {
  return { execution_state: state };
}

export function streamContent(name: 'stdout' | 'stderr', text: string): object {
  return { name, text };
}

export function errorReplyContent(ename: string, evalue: string): object {
  return { status: 'error', ename, evalue, traceback: [`${ename}: ${evalue}`] };
}

/** kernel_info_reply when no backend can answer: enough for a client to connect and see why. */
export function fleetKernelInfo(banner: string): object {
  return {
    status: 'ok',
    protocol_version: PROTOCOL_VERSION,
    implementation: 'llmspell-fleet',
    implementation_version: VERSION,
    language_info: { name: 'lua', version: '', mimetype: 'text/x-lua', file_extension: '.lua' },
    banner,
    help_links: [],
  };
}
