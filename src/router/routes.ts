import type { InterruptMode } from '../shared/requirement.js';
import type { Channel } from '../wire/messages.js';

/** What the router does with a verified request from a client. Pure: no sockets, no state. */
export type ClientAction =
  | { readonly kind: 'forward' }
  | { readonly kind: 'shutdown'; readonly restart: boolean }
  | { readonly kind: 'interrupt' };

export function routeClientRequest(
  channel: Extract<Channel, 'shell' | 'control' | 'stdin'>,
  msgType: string,
  content: () => Record<string, unknown>,
): ClientAction {
  if (channel === 'stdin') return { kind: 'forward' };
  // shutdown_request on shell is deprecated but still sent by old clients: same meaning.
  if (msgType === 'shutdown_request') return { kind: 'shutdown', restart: content().restart === true };
  if (msgType === 'interrupt_request' && channel === 'control') return { kind: 'interrupt' };
  return { kind: 'forward' };
}
