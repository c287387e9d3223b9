/** Where the router host's own files live in the fleet home (the kernel stub computes the socket's path the same way). */
import { join } from 'node:path';
import { logDir } from '../../fleet/paths.js';

/** The stubs connect here; mode 0600 in the 0700 home. */
export function routerHostSocketPath(home: string): string {
  return join(home, 'router-host.sock');
}

/** Held by the one host that serves the home, for as long as it listens; it names the holder's pid. */
export function routerHostLockPath(home: string): string {
  return join(home, 'router-host.lock');
}

export function routerHostLogPath(home: string): string {
  return join(logDir(home), 'router-host.log');
}
