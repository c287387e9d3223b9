/** Where the manager's own files live in the fleet home; shared by the daemon and its clients. */
import { join } from 'node:path';
import { logDir } from '../paths.js';

export function managerSocketPath(home: string): string {
  return join(home, 'manager.sock');
}

/** Held only while a starting manager checks for another one and binds the socket. */
export function managerLockPath(home: string): string {
  return join(home, 'manager.lock');
}

/** Held by the one client that is autostarting a manager, so that 20 routers starting at once spawn one. */
export function managerStartingPath(home: string): string {
  return join(home, 'manager.starting');
}

/** stdout/stderr of an autostarted manager, and its log. */
export function managerLogPath(home: string): string {
  return join(logDir(home), 'manager.log');
}
