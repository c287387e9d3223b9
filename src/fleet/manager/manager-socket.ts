/**
 * The home's manager socket seen from a manager about to serve it: whether another manager
 * already answers there, and binding it so that only the user can connect (mode 0600 from the
 * start, not after).
 */
import { chmod } from 'node:fs/promises';
import type { Server } from 'node:net';
import { FleetError } from '../../shared/errors.js';
import { ManagerClient } from './client.js';
import type { ManagerInfo } from './protocol.js';

const PING_TIMEOUT_MS = 5000;

/** The manager that answers on this home's socket, if any (pid unknown if it did not answer in time). */
export async function runningManager(home: string): Promise<{ pid: number | undefined } | undefined> {
  let client: ManagerClient;
  try {
    client = await ManagerClient.connect({ home, autostart: false });
  } catch {
    return undefined;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), PING_TIMEOUT_MS)));
    const info = await Promise.race([client.request<ManagerInfo>({ op: 'ping' }), timeout]);
    return { pid: info?.pid };
  } catch {
    // It accepted the connection, so something lives there: never bind over it.
    return { pid: undefined };
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

export async function listen(server: Server, socketPath: string): Promise<void> {
  // The socket is created with the umask's mode; narrow it before it exists, not after.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    throw new FleetError('BIND_FAILED', `cannot listen on ${socketPath}: ${(error as Error).message}`, { socket: socketPath }, { cause: error });
  } finally {
    process.umask(umask);
  }
  await chmod(socketPath, 0o600);
}
