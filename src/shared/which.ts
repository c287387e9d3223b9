import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';

/** Where `command` may be, in the order exec looks: a path is taken as is, a bare name is searched on PATH. */
export function pathCandidates(command: string, pathValue: string | undefined): string[] {
  if (command.includes('/')) return [command];
  return (pathValue ?? '')
    .split(delimiter)
    .filter((dir) => dir.length > 0)
    .map((dir) => join(dir, command));
}

/** Where system tools live when a user's PATH leaves out the sbin directories (ip is in /usr/sbin). */
const SYSTEM_DIRS = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A system tool (unshare, ip, setpriv): on PATH first, then in the usual system directories. */
export function findSystemExecutable(command: string, pathValue: string | undefined): Promise<string | undefined> {
  return findExecutable(command, pathValue ? `${pathValue}:${SYSTEM_DIRS}` : SYSTEM_DIRS);
}

/** The first executable regular file among the candidates, as exec would pick it (absolute), or undefined. */
export async function findExecutable(command: string, pathValue: string | undefined): Promise<string | undefined> {
  for (const candidate of pathCandidates(command, pathValue)) {
    try {
      await access(candidate, constants.X_OK);
      if ((await stat(candidate)).isFile()) return resolve(candidate);
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}
