/**
 * CurveZMQ on the router-to-backend link (issue #11 item 3), with real ipykernels: a backend
 * with `curve = true` runs cells through the real router and manager, a TCP relay in the middle
 * (test/fixtures/recording-relay.mjs) sees none of the code or output, and a plain zeromq client
 * gets nothing out of a curve kernel. The same relay without curve sees both, so the check can fail.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { routerConnectionInfo } from '../../src/fleet/backend-process.js';
import { allocatePorts } from '../../src/fleet/ports.js';
import { JupyterClient } from '../../src/wire/client.js';
import { createMessage, encode } from '../../src/wire/codec.js';
import { endpoint, writeConnectionFile, type ConnectionInfo } from '../../src/wire/connection-file.js';
import { curveFields, newCurveKeyPair } from '../../src/wire/curve.js';
import { pingHeartbeat } from '../../src/wire/heartbeat-client.js';
import { waitForReady } from '../../src/wire/ready.js';
import { createSigner } from '../../src/wire/sign.js';
import * as zmq from '../../src/wire/zmq.js';
import { describeRun, REPO_ROOT, runPython, VENV_PYTHON, withJupyterEnv, type JupyterEnv } from '../helpers/e2e.js';
import { FLEET_PYTHON, setupFleet } from '../helpers/fleet-env.js';
import { within } from '../helpers/relay.js';

const RELAY = join(REPO_ROOT, 'test', 'fixtures', 'recording-relay.mjs');

function fleetToml(record: string, curve: boolean): string {
  const argv = [process.execPath, RELAY, record, '{connection_file}', VENV_PYTHON, '-m', 'ipykernel_launcher', '-f'];
  return ['default_runtime = "py"', 'default_provider = "openai"', 'linger_seconds = 0', '[runtimes.py]', `argv = ${JSON.stringify(argv)}`, `curve = ${curve}`, ''].join('\n');
}

/** One cell through the router, by jupyter_client; what the relay recorded meanwhile. */
async function cellThroughRelay(jenv: JupyterEnv, curve: boolean, canary: string): Promise<{ stdout: string; recorded: Buffer }> {
  const record = join(jenv.dir, 'relayed.bin');
  await setupFleet(jenv, { toml: fleetToml(record, curve) });
  const r = await runPython<{ status: string; stdout: string }>('curve_check.py', [FLEET_PYTHON, `print(${JSON.stringify(canary)})`], { env: jenv.env, timeoutMs: 150_000 });
  expect(r.result?.status, describeRun('curve_check', r)).toBe('ok');
  return { stdout: r.result?.stdout ?? '', recorded: await readFile(record) };
}

describe('curve = true: the router-to-backend link is encrypted (real ipykernel, real router)', () => {
  it('runs the cell, and a relay between router and backend never sees its code or output', async () => {
    await withJupyterEnv(async (jenv) => {
      const canary = `curve-canary-${randomUUID()}`;
      const { stdout, recorded } = await cellThroughRelay(jenv, true, canary);
      expect(stdout).toBe(`${canary}\n`);
      // The session's traffic did go through the relay: ZMTP greetings naming the CURVE mechanism.
      expect(recorded.includes('CURVE')).toBe(true);
      expect(recorded.length).toBeGreaterThan(1000);
      expect(recorded.includes(canary)).toBe(false);
      expect(recorded.includes('execute_request')).toBe(false);
    });
  });

  it('without curve the same relay sees the code and the output in clear (so the check above can fail)', async () => {
    await withJupyterEnv(async (jenv) => {
      const canary = `plain-canary-${randomUUID()}`;
      const { stdout, recorded } = await cellThroughRelay(jenv, false, canary);
      expect(stdout).toBe(`${canary}\n`);
      expect(recorded.includes('NULL')).toBe(true);
      expect(recorded.includes('CURVE')).toBe(false);
      // Once in the execute_request, once in the stream output.
      expect(recorded.toString('latin1').split(canary).length - 1).toBeGreaterThanOrEqual(2);
    });
  });
});

describe('an ipykernel started with curve keys', () => {
  it("answers a curve client on shell and hb, and a plain zeromq client's handshake fails and it never gets a frame", async () => {
    await withJupyterEnv(async (jenv) => {
      const info: ConnectionInfo = { ...routerConnectionInfo(await allocatePorts('127.0.0.1', 5)), ...curveFields(newCurveKeyPair()) };
      const file = join(jenv.runtimeDir, `kernel-curve-${randomUUID()}.json`);
      await writeConnectionFile(file, info);
      const kernel = spawn(VENV_PYTHON, ['-m', 'ipykernel_launcher', '-f', file], { env: jenv.env, stdio: ['ignore', 'ignore', 'pipe'] });
      const exited = new Promise<void>((resolve) => kernel.once('exit', () => resolve()));
      const client = new JupyterClient({ connection: info });
      const plain = new zmq.Dealer({ linger: 0 });
      try {
        await waitForReady(client, { timeoutMs: 60_000 });
        const reply = await client.request('kernel_info_request', {});
        expect(reply.content()).toMatchObject({ status: 'ok', implementation: 'ipython' });
        expect(await pingHeartbeat(info, 10_000)).toBeGreaterThanOrEqual(0);

        const handshake = (async () => {
          for await (const event of plain.events) {
            if (event.type === 'handshake') return 'handshake';
            if (event.type.startsWith('handshake:error')) return `${event.type} ${(event as { error?: { code?: string } }).error?.code ?? ''}`;
          }
          return 'closed';
        })();
        let answered = false;
        void (async () => {
          for await (const _frames of plain) answered = true;
        })();
        plain.connect(endpoint(info, 'shell'));
        const request = createMessage({ msgType: 'kernel_info_request', content: {}, session: randomUUID() });
        void plain.send(encode(request, createSigner(info.key, info.signature_scheme))).catch(() => undefined);
        // ERR_ZMTP_MECHANISM_MISMATCH, or EPIPE when the kernel hangs up first: which one is up to timing.
        expect(await within(handshake, 30_000, 'the plain client handshake to end')).toMatch(/^handshake:error:(protocol ERR_ZMTP_MECHANISM_MISMATCH|other EPIPE)$/);
        // The curve client still works after the refused one, and the plain one never got a frame.
        expect((await client.request('kernel_info_request', {})).content()).toMatchObject({ status: 'ok' });
        expect(answered).toBe(false);
      } finally {
        plain.close();
        client.close();
        kernel.kill('SIGTERM');
        await exited;
      }
    });
  });
});
