import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../../../src/fleet/config.js';
import { FleetManager } from '../../../../src/fleet/manager/fleet.js';
import { isFleetError } from '../../../../src/shared/errors.js';
import { ROOT, standinToml, useTempFleet } from './standin-fleet.js';

const FLOOD = join(ROOT, 'test/fixtures/flood-kernel.mjs');
const temp = useTempFleet();

/** The flood kernel reads its connection file but knows nothing of curve: it binds in clear. */
function manager(): FleetManager {
  const argv = JSON.stringify([process.execPath, FLOOD, '{connection_file}']);
  const extra = ['[runtimes.clear]', `argv = ${argv}`, '[runtimes.unaware]', `argv = ${argv}`, 'curve = true', 'startup_timeout = 3'].join('\n');
  const m = new FleetManager({ home: temp.fleet.home, loadConfig: async () => parseFleetConfig(standinToml({ linger: 0, extra }), temp.fleet.configFile) });
  temp.managers.push(m);
  return m;
}

describe('curve = true on a kernel that ignores the keys', () => {
  it('starts the same kernel without curve, and with curve the manager (a curve client) never gets an answer: READY_TIMEOUT saying why', async () => {
    const m = manager();
    const clear = await m.acquire({ runtime: 'clear', provider: 'openai' }, { routerId: 'r1', pid: process.pid });
    expect(clear.connection.curve_publickey).toBeUndefined();
    const error = await m.acquire({ runtime: 'unaware', provider: 'openai' }, { routerId: 'r2', pid: process.pid }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isFleetError(error) && error.code).toBe('READY_TIMEOUT');
    expect((error as Error).message).toMatch(/with curve = true the kernel must read curve_publickey\/curve_secretkey from its connection file .*remove curve from runtimes\.unaware/);
  });
});
