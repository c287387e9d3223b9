/**
 * What a signal means to a router, in one place: the standalone router takes it on its own
 * process, a router host session has it passed on by its kernel stub (router-host/).
 */
import type { RouterSession } from './router-session.js';

/** The signals a router takes, to its own process (standalone) or passed on by its kernel stub. */
export type RouterSignal = 'SIGTERM' | 'SIGHUP' | 'SIGINT';
export const ROUTER_SIGNALS: readonly RouterSignal[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];

/**
 * Pure: what a signal means to a router. SIGTERM is all VS Code sends, SIGHUP comes with a
 * closed terminal: both stop it cleanly. Jupyter interrupts a "signal" kernel with SIGINT to its
 * group: it is passed on to each backend in its own mode.
 */
export function signalAction(signal: RouterSignal): 'interrupt' | 'stop' {
  return signal === 'SIGINT' ? 'interrupt' : 'stop';
}

/** Does to the session what `signal` means. */
export function applySignal(session: Pick<RouterSession, 'stop' | 'interrupt'>, signal: RouterSignal): void {
  if (signalAction(signal) === 'interrupt') session.interrupt();
  else session.stop(0, signal);
}
