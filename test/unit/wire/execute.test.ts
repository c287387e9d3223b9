/** executeCell against a scripted scripted kernel: the reply alone does not end a cell, idle does. */
import { afterEach, describe, expect, it } from 'vitest';
import { isJupyterClientError } from '../../../src/wire/client-errors.js';
import { JupyterClient } from '../../../src/wire/client.js';
import { executeCell } from '../../../src/wire/execute.js';
import { ScriptedKernel } from '../../helpers/scripted-kernel.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setUp() {
  const peer = await ScriptedKernel.start('ipc');
  cleanup.push(() => peer.close());
  const client = new JupyterClient({ connection: peer.info });
  cleanup.push(() => client.close());
  const subscribed = peer.subscribed();
  return { peer, client, subscribed };
}

describe('executeCell', () => {
  it('resolves with the execute_reply once the idle status is in, with the output before it', async () => {
    const { peer, client, subscribed } = await setUp();
    await subscribed;
    const outputs: string[] = [];
    let sentId = '';
    let done = false;
    const cell = executeCell(client, 'print(1)', { onOutput: (m) => outputs.push(m.content<{ text: string }>().text), onSent: (id) => (sentId = id) })
      .then((reply) => { done = true; return reply; });
    const request = await peer.nextRequest();
    expect(request.msg.msgId).toBe(sentId);
    expect(request.msg.content()).toMatchObject({ code: 'print(1)', silent: false, allow_stdin: false });
    const parentHeader = request.msg.header;
    await peer.publish('status', { execution_state: 'busy' }, { parentHeader });
    await peer.publish('stream', { name: 'stdout', text: 'other cell' }, { parentHeader: { msg_id: 'someone-else' } });
    await peer.publish('stream', { name: 'stdout', text: '1\n' }, { parentHeader });
    await peer.reply(request, 'execute_reply', { status: 'ok', execution_count: 1 });
    // The reply is in; the cell is not done until idle. A round trip on shell proves the reply arrived.
    const probe = client.request('kernel_info_request', {});
    await peer.reply(await peer.nextRequest(), 'kernel_info_reply', { status: 'ok' });
    await probe;
    expect(done).toBe(false);
    await peer.publish('status', { execution_state: 'idle' }, { parentHeader });
    const reply = await cell;
    expect(reply.content()).toMatchObject({ status: 'ok', execution_count: 1 });
    expect(outputs).toEqual(['1\n']);
  });

  it('fails with CLIENT_CLOSED when the client closes while waiting for idle', async () => {
    const { peer, client, subscribed } = await setUp();
    await subscribed;
    const cell = executeCell(client, 'x');
    const request = await peer.nextRequest();
    await peer.reply(request, 'execute_reply', { status: 'ok', execution_count: 1 });
    const probe = client.request('kernel_info_request', {});
    await peer.reply(await peer.nextRequest(), 'kernel_info_reply', { status: 'ok' });
    await probe;
    client.close();
    const error = await cell.catch((e: unknown) => e);
    expect(isJupyterClientError(error) && error.code).toBe('CLIENT_CLOSED');
  });
});
