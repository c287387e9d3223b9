import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { allocatePorts } from '../../fleet/ports.js';
import { FleetError } from '../../shared/errors.js';
import { newKey, readConnectionFile, type ConnectionInfo } from '../../wire/connection-file.js';

/** sockaddr_un holds 108 bytes with the terminating NUL; zeromq refuses longer ipc paths. */
const MAX_IPC_PATH = 107;

export interface ClientConnection {
  info: ConnectionInfo;
  /** True when nobody wrote the file: the adapter writes it once its sockets are bound. */
  write: boolean;
}

/**
 * The connection file clients use. Jupyter (kernelspec, `--existing` tools) writes it before the
 * kernel starts, and the adapter binds what it says; the fleet lets the adapter write it, so
 * that the adapter can pick ipc sockets (private network namespace) or free ports itself.
 */
export async function clientConnection(file: string, transport: 'tcp' | 'ipc'): Promise<ClientConnection> {
  if (existsSync(file)) return { info: await readConnectionFile(file), write: false };
  const base = { key: newKey(), signature_scheme: 'hmac-sha256', kernel_name: 'llmspell' };
  if (transport === 'ipc') {
    const ip = join(dirname(file), basename(file, '.json'));
    if (Buffer.byteLength(`${ip}-5`) > MAX_IPC_PATH) {
      throw new FleetError(
        'BAD_CONNECTION_FILE',
        `ipc socket path ${ip}-5 is longer than the ${MAX_IPC_PATH} bytes a unix socket allows; use a shorter LLMSPELL_FLEET_HOME or isolate = "off"`,
        { source: file },
      );
    }
    return { info: { transport: 'ipc', ip, shell_port: 1, iopub_port: 2, stdin_port: 3, control_port: 4, hb_port: 5, ...base }, write: true };
  }
  const [shell, iopub, stdin, control, hb] = (await allocatePorts('127.0.0.1', 5)) as [number, number, number, number, number];
  return {
    info: { transport: 'tcp', ip: '127.0.0.1', shell_port: shell, iopub_port: iopub, stdin_port: stdin, control_port: control, hb_port: hb, ...base },
    write: true,
  };
}

/** `kernel-abc.json` -> `kernel-abc-llmspell.json`: llmspell's own file, next to the client's. */
export function siblingPath(file: string, suffix: string): string {
  return join(dirname(file), `${basename(file, '.json')}-${suffix}`);
}
