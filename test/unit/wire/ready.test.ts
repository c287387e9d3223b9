/**
 * Readiness on top of JupyterClient, against a scripted scripted kernel: requests sent again until
 * one is answered, and jupyter_client's rule (a kernel_info_reply and some iopub traffic).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isJupyterClientError } from '../../../src/wire/client-errors.js';
import { JupyterClient } from '../../../src/wire/client.js';
import { requestUntilAnswered, waitForReady } from '../../../src/wire/ready.js';
import { ScriptedKernel } from '../../helpers/scripted-kernel.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setUp() {
  const peer = await ScriptedKernel.start('tcp');
  cleanup.push(() => peer.close());
  const client = new JupyterClient({ connection: peer.info });
  cleanup.push(() => client.close());
  return { peer, client };
}

/** Answers kernel_info from the `from`-th request on (0-based), with busy/idle around it when `publish`. */
function serveKernelInfo(peer: ScriptedKernel, options: { from?: number; publish: boolean }): string[] {
  const seen: string[] = [];
  void (async () => {
    for (let i = 0; ; i++) {
      const request = await peer.nextRequest();
      seen.push(request.msg.msgId);
      if (i < (options.from ?? 0)) continue;
      if (options.publish) await peer.publish('status', { execution_state: 'busy' }, { parentHeader: request.msg.header });
      await peer.reply(request, 'kernel_info_reply', { status: 'ok', implementation: 'peer' });
      if (options.publish) await peer.publish('status', { execution_state: 'idle' }, { parentHeader: request.msg.header });
    }
  })();
  return seen;
}

describe('requestUntilAnswered', () => {
  it('asks again every resendMs and takes the first reply', async () => {
    const { peer, client } = await setUp();
    const seen = serveKernelInfo(peer, { from: 1, publish: false });
    const reply = await requestUntilAnswered(client, 'kernel_info_request', {}, { timeoutMs: 10_000, resendMs: 50 });
    expect(reply).not.toBe('gave-up');
    expect(reply !== 'gave-up' && reply?.content().implementation).toBe('peer');
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(reply !== 'gave-up' && reply?.parentHeader.msg_id).toBe(seen[1]);
  });

  it('ends with undefined after timeoutMs, or with gave-up when giveUp says so', async () => {
    const { peer, client } = await setUp();
    serveKernelInfo(peer, { from: Number.POSITIVE_INFINITY, publish: false });
    expect(await requestUntilAnswered(client, 'kernel_info_request', {}, { timeoutMs: 120, resendMs: 40 })).toBeUndefined();
    let asked = 0;
    const giveUp = async () => ++asked === 2;
    expect(await requestUntilAnswered(client, 'kernel_info_request', {}, { timeoutMs: 60_000, resendMs: 20, giveUp })).toBe('gave-up');
    expect(asked).toBe(2);
  });

  it('rejects with the signal reason on abort', async () => {
    const { client } = await setUp();
    const controller = new AbortController();
    const pending = requestUntilAnswered(client, 'kernel_info_request', {}, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort(new Error('cancelled'));
    await expect(pending).rejects.toThrow('cancelled');
  });
});

describe('waitForReady', () => {
  it('is ready after a kernel_info_reply and an iopub message', async () => {
    const { peer, client } = await setUp();
    serveKernelInfo(peer, { publish: true });
    const ready = await waitForReady(client, { timeoutMs: 30_000, resendMs: 200 });
    expect(ready.iopubSeen).toBe(true);
    expect(ready.kernelInfo.content().implementation).toBe('peer');
  });

  it('without iopub: IOPUB_SILENT, or ready without it when iopubWaitMs allows', async () => {
    const { peer, client } = await setUp();
    serveKernelInfo(peer, { publish: false });
    // Long enough for the reply on a loaded machine: running out of time after it is the case tested.
    const error = await waitForReady(client, { timeoutMs: 2000 }).catch((e: unknown) => e);
    expect(isJupyterClientError(error) && error.code).toBe('IOPUB_SILENT');
    const ready = await waitForReady(client, { timeoutMs: 30_000, iopubWaitMs: 200 });
    expect(ready.iopubSeen).toBe(false);
  });

  it('fails with REQUEST_TIMEOUT when kernel_info is never answered', async () => {
    const { client } = await setUp();
    const error = await waitForReady(client, { timeoutMs: 150, resendMs: 50 }).catch((e: unknown) => e);
    expect(isJupyterClientError(error) && error.code).toBe('REQUEST_TIMEOUT');
  });
});
