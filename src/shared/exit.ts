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
