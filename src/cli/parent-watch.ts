/**
 * Jupyter sets JPY_PARENT_PID to the process that launched the kernel. If that process dies
 * without stopping us (a crash, kill -9), nobody else will: poll it and stop.
 */
export function watchParent(parentPid: string | undefined, onGone: () => void, intervalMs = 1000): () => void {
  const pid = Number(parentPid);
  if (!Number.isInteger(pid) || pid <= 1) return () => {};
  const timer = setInterval(() => {
    if (!isAlive(pid)) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is not ours, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
