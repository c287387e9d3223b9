/**
 * bindFrontend with real zeromq sockets on loopback: a port another socket holds fails with
 * BIND_FAILED naming the ports, unless it is released within the retry window (a restarted
 * kernel's session binding what its predecessor's session in the same router host just closed).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Router } from 'zeromq';
import { allocatePorts } from '../../../src/fleet/ports.js';
import { bindFrontend, closeAll, type FrontendSockets } from '../../../src/router/sockets.js';
import { isFleetError } from '../../../src/shared/errors.js';
import type { ConnectionInfo } from '../../../src/wire/connection-file.js';

async function connection(): Promise<ConnectionInfo> {
  const [shell, iopub, stdin, control, hb] = (await allocatePorts('127.0.0.1', 5)) as [number, number, number, number, number];
  return { transport: 'tcp', ip: '127.0.0.1', shell_port: shell, iopub_port: iopub, stdin_port: stdin, control_port: control, hb_port: hb, key: 'k', signature_scheme: 'hmac-sha256' };
}

describe('bindFrontend', () => {
  const open: { close(): void; closed: boolean }[] = [];
  const bound: FrontendSockets[] = [];
  afterEach(() => {
    for (const s of open.splice(0)) if (!s.closed) s.close();
    for (const f of bound.splice(0)) closeAll(f);
  });

  it('fails with BIND_FAILED naming the ports when one stays held, after its retry window', async () => {
    const info = await connection();
    const holder = new Router();
    open.push(holder);
    await holder.bind(`tcp://127.0.0.1:${info.control_port}`);
    const error = await bindFrontend(info, 0).catch((e: unknown) => e);
    expect(isFleetError(error) && error.code).toBe('BIND_FAILED');
    expect((error as Error).message).toContain(String(info.control_port));
    expect((error as Error).message).toContain('Address already in use');
  });

  it('binds once a held port is released within the retry window', async () => {
    const info = await connection();
    const holder = new Router();
    open.push(holder);
    await holder.bind(`tcp://127.0.0.1:${info.shell_port}`);
    const binding = bindFrontend(info, 30_000);
    // Released on the next turn of the event loop: the first attempt has met the held port by then or meets a free one.
    setImmediate(() => holder.close());
    const sockets = await binding;
    bound.push(sockets);
    expect(Object.values(sockets).every((s) => !s.closed)).toBe(true);
  });
});
