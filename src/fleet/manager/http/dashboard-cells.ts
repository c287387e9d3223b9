/**
 * Pure: how the dashboard words a backend's cells that are more than a field. These go into
 * /dashboard.js as their own source (see dashboard-script.ts), so the page runs what the unit
 * tests test; they must stay plain functions with no imports and no outside names.
 */

/**
 * A dead backend's last exit, e.g. "signalled (SIGKILL)", "exited (code 3)", or a limit's own
 * words ("killed: memory limit 512 MB reached"), which say more than its reason. Empty for none.
 */
export function exitText(lastExit: { reason: string; cause?: string; exitCode: number | null; signal: string | null } | undefined): string {
  if (lastExit === undefined || lastExit === null) return '';
  if (typeof lastExit.cause === 'string' && lastExit.cause.length > 0) return lastExit.cause;
  if (typeof lastExit.signal === 'string') return lastExit.reason + ' (' + lastExit.signal + ')';
  if (typeof lastExit.exitCode === 'number') return lastExit.reason + ' (code ' + lastExit.exitCode + ')';
  return lastExit.reason;
}

/** What the stop button asks before it stops a backend: its state is lost, and who uses it. */
export function stopQuestion(kernelId: string, clients: number): string {
  const using = clients === 0 ? 'no notebook is attached' : clients === 1 ? '1 notebook is attached and sees it exit' : clients + ' notebooks are attached and see it exit';
  return 'Stop backend ' + kernelId + '? Its state is lost; ' + using + '.';
}
