/**
 * What the router tells clients on stderr when something happens to a backend. Pure text, kept
 * in one place so that every notice names the backend the same way and says what to do next.
 */
import { describeExit } from '../shared/exit.js';

export interface BackendRef {
  /** requirementKey: runtime/provider[#group]. */
  key: string;
  pid: number | undefined;
}

export type AfterExit =
  | { kind: 'restarting' }
  /** The fleet ended it on purpose (culled): the next request starts a new one. */
  | { kind: 'on-demand' }
  | { kind: 'restarts-off' }
  | { kind: 'too-many'; deaths: number };

const PREFIX = 'llmspell-fleet: ';

function backendName(b: BackendRef): string {
  return `the ${b.key} backend (pid ${b.pid ?? 'unknown'})`;
}

/** A crashed backend's last lines (crashOutput), after the sentence that tells of its end. */
function lastOutputOf(lastOutput: string | undefined): string {
  return lastOutput === undefined ? '' : `Its last output:\n${lastOutput}\n`;
}

/**
 * `how`: describeExit's words ("was killed by SIGKILL", "exited with code 3"); `lastOutput`:
 * what a crashed backend wrote last (shared/exit.ts crashOutput), which usually says why.
 */
export function exitNotice(b: BackendRef, how: string, after: AfterExit, lastOutput?: string): string {
  const next =
    after.kind === 'restarting' ? 'a new one is starting.'
    : after.kind === 'on-demand' ? 'the next cell starts a new one.'
    : after.kind === 'restarts-off' ? 'automatic restarts are off (router.restart_limit = 0); the next request starts a new one.'
    : `it died ${after.deaths} times in a minute, so it is not restarted until the next request.`;
  return `${PREFIX}${backendName(b)} ${how}. Its state is lost; ${next}\n${lastOutputOf(lastOutput)}`;
}

/** The error a request the dead backend had taken gets instead of its reply (the cell shows it). */
export function diedBeforeReply(b: BackendRef, how: string, lastOutput?: string): string {
  const said = lastOutput === undefined ? '' : `. Its last output:\n${lastOutput}`;
  return `${backendName(b)} ${how} before it answered; run it again${said}`;
}

export function heartbeatNotice(b: BackendRef, responsive: boolean, silentMs: number): string {
  if (responsive) return `${PREFIX}${backendName(b)} answers its heartbeat again.\n`;
  return (
    `${PREFIX}${backendName(b)} has not answered its heartbeat for ${(silentMs / 1000).toFixed(1)} s although it runs no cell of this session: ` +
    'it is hung or busy with another session. Requests wait for it; if it stays silent, restart the kernel to replace it (its state is lost).\n'
  );
}

/** `what`: "this execute_request", "a display_data from the backend". */
export function tooLarge(what: string, bytes: number, limitBytes: number): string {
  const mb = (n: number) => (n / 1024 / 1024).toFixed(1);
  return `${what} is ${mb(bytes)} MB, more than router.max_message_mb (${mb(limitBytes)} MB) allows (raise it in fleet.toml [router]).`;
}

export function notice(text: string): string {
  return `${PREFIX}${text}\n`;
}

/** Why a backend failed to start: it exited before the handshake, with the last it printed. */
export function startFailure(key: string, pid: number, exit: { exitCode: number | null; signal: string | null; reason: string; stderrTail?: string }): string {
  const tail = exit.stderrTail?.trim();
  return `the ${key} backend (pid ${pid}) ${describeExit(exit)} before it was ready${tail ? `; its last output:\n${tail}` : ''}`;
}
