/**
 * How a process ended, in words for the user ("was killed by SIGKILL", "exited with code 3",
 * "was stopped"), not the enum. One wording for the launcher, the manager and the router.
 */
/**
 * Pure: whether a router starts a backend that ended like this again at once. Not one the fleet
 * culled for being idle (idle_cull_seconds): that would undo the cull; the next cell starts one.
 */
export function restartsAfter(exit: { reason?: string }): boolean {
  return exit.reason !== 'culled';
}

export function describeExit(exit: { exitCode: number | null; signal: string | null; reason?: string; cause?: string }): string {
  if (exit.cause) return `was ${exit.cause}`;
  if (exit.reason === 'stopped') return 'was stopped';
  if (exit.signal) return `was killed by ${exit.signal}`;
  if (exit.exitCode !== null || exit.reason === undefined) return `exited with code ${exit.exitCode}`;
  return exit.reason;
}

/** Signals a process raises on itself when it fails (a fault, an abort), unlike a kill from outside. */
const CRASH_SIGNALS = new Set(['SIGSEGV', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGILL', 'SIGTRAP', 'SIGSYS']);

/** How many of the last lines a crash notice shows: enough for a traceback's end, short in a notebook. */
export const CRASH_OUTPUT_LINES = 5;

/**
 * Pure: the last lines a backend wrote, when it crashed (a non-zero exit code of its own, or a
 * fault signal): they usually say why. Undefined for a stop, a limit, a cull or a kill from
 * outside, whose reason is told already and whose last output would only be noise.
 */
export function crashOutput(exit: { exitCode: number | null; signal: string | null; reason?: string; stderrTail?: string }, lines = CRASH_OUTPUT_LINES): string | undefined {
  const crashed =
    (exit.reason === 'exited' && exit.exitCode !== null && exit.exitCode !== 0) ||
    (exit.reason === 'signalled' && exit.signal !== null && CRASH_SIGNALS.has(exit.signal));
  if (!crashed || exit.stderrTail === undefined) return undefined;
  const kept = exit.stderrTail.split('\n').map((l) => l.trimEnd()).filter((l) => l !== '').slice(-lines);
  return kept.length > 0 ? kept.join('\n') : undefined;
}
