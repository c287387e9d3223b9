/**
 * JupyterClient against a scripted scripted kernel over real zeromq sockets (tcp and ipc loopback):
 * replies matched by parent, timeouts and aborts, forged messages refused, iopub delivered
 * (including through a custom decoder), and what closing does to waiting requests.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { isJupyterClientError } from '../../../src/wire/client-errors.js';
import type { JupyterClientOptions } from '../../../src/wire/client-types.js';
import { JupyterClient } from '../../../src/wire/client.js';
import { WireMessage } from '../../../src/wire/codec.js';
import type { SignedFrames } from '../../../src/wire/frames.js';
import { ScriptedKernel, type PeerTransport } from '../../helpers/scripted-kernel.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setUp(transport: PeerTransport, options: Partial<JupyterClientOptions> = {}) {
  const peer = await ScriptedKernel.start(transport);
  cleanup.push(() => peer.close());
  const client = new JupyterClient({ connection: peer.info, ...options });
  cleanup.push(() => client.close());
  return { peer, client };
}

const codeOf = (error: unknown) => (isJupyterClientError(error) ? error.code : error);

describe.each(['tcp', 'ipc'] as const)('JupyterClient over %s', (transport) => {
  it('matches each reply to its request by parent msg_id, whatever the order', async () => {
    const { peer, client } = await setUp(transport);
    const first = client.start('kernel_info_request', {});
    const second = client.start('complete_request', { code: 'pri', cursor_pos: 3 });
    const [a, b] = [await peer.nextRequest(), await peer.nextRequest()];
    expect([a.msg.msgId, b.msg.msgId]).toEqual([first.msgId, second.msgId]);
    expect(b.msg.content()).toEqual({ code: 'pri', cursor_pos: 3 });
    await peer.reply(b, 'complete_reply', { status: 'ok', matches: ['print'], cursor_start: 0, cursor_end: 3, metadata: {} });
    await peer.reply(a, 'kernel_info_reply', { status: 'ok', implementation: 'peer', banner: 'b' });
    const info = await first.reply;
    expect(info.msgType).toBe('kernel_info_reply');
    expect(info.content().implementation).toBe('peer');
    const completion = (await second.reply).content();
    expect(completion.status === 'ok' && completion.matches).toEqual(['print']);
  });

  it('uses one routing id on shell and control, fixed when asked', async () => {
    const { peer, client } = await setUp(transport, { routingId: 'inprocess_client' });
    client.request('kernel_info_request', {}).catch(() => undefined);
    client.request('interrupt_request', {}, { channel: 'control' }).catch(() => undefined);
    const shell = await peer.nextRequest('shell');
    const control = await peer.nextRequest('control');
    expect(shell.identities.map(String)).toEqual(['inprocess_client']);
    expect(control.identities.map(String)).toEqual(['inprocess_client']);
    expect(control.msg.msgType).toBe('interrupt_request');
  });

  it('answers input_request on stdin with post(), parented to the ask', async () => {
    const { peer, client } = await setUp(transport, { onUnmatched: (channel, msg) => {
      if (channel === 'stdin') client.post('stdin', 'input_reply', { value: 'typed' }, { parentHeader: msg.header });
    } });
    const execute = client.start('execute_request', { code: 'input()', silent: false, store_history: false, user_expressions: {}, allow_stdin: true, stop_on_error: true });
    const request = await peer.nextRequest('shell');
    const ask = await peer.sendTo('stdin', request.identities, 'input_request', { prompt: 'name? ', password: false });
    const answer = await peer.nextRequest('stdin');
    expect(answer.msg.msgType).toBe('input_reply');
    expect(answer.msg.content()).toEqual({ value: 'typed' });
    expect(answer.msg.parentHeader.msg_id).toBe(ask.msgId);
    await peer.reply(request, 'execute_reply', { status: 'ok', execution_count: 1 });
    expect((await execute.reply).content().status).toBe('ok');
  });

  it('rejects a request with REQUEST_TIMEOUT when no reply comes, and hands the late one to onUnmatched', async () => {
    const late: WireMessage[] = [];
    const { peer, client } = await setUp(transport, { onUnmatched: (_, m) => late.push(m) });
    const pending = client.start('kernel_info_request', {}, { timeoutMs: 50 });
    const request = await peer.nextRequest();
    const error = await pending.reply.catch((e: unknown) => e);
    expect(codeOf(error)).toBe('REQUEST_TIMEOUT');
    expect(error).toMatchObject({ context: { msgType: 'kernel_info_request', msgId: pending.msgId, timeoutMs: 50 } });
    await peer.reply(request, 'kernel_info_reply', { status: 'ok' });
    // A second round trip orders the late reply before this one on the same socket.
    const next = client.request('kernel_info_request', {});
    await peer.reply(await peer.nextRequest(), 'kernel_info_reply', { status: 'ok' });
    await next;
    expect(late.map((m) => m.parentHeader.msg_id)).toEqual([pending.msgId]);
    // A relay tells its own late replies from other clients' by sentHere.
    expect(client.sentHere(pending.msgId)).toBe(true);
    expect(client.sentHere(request.identities[0]!.toString())).toBe(false);
  });

  it('rejects with the signal reason on abort, before or after sending', async () => {
    const { peer, client } = await setUp(transport);
    const controller = new AbortController();
    const pending = client.request('kernel_info_request', {}, { signal: controller.signal });
    await peer.nextRequest();
    controller.abort(new Error('user stopped it'));
    await expect(pending).rejects.toThrow('user stopped it');
    await expect(client.request('kernel_info_request', {}, { signal: controller.signal })).rejects.toThrow('user stopped it');
  });

  it('drops replies signed with another key (counted), and still takes the real one', async () => {
    const reasons: string[] = [];
    const { peer, client } = await setUp(transport, { onRejected: (channel, reason) => reasons.push(`${channel}:${reason}`) });
    const pending = client.request('kernel_info_request', {});
    const request = await peer.nextRequest();
    await peer.reply(request, 'kernel_info_reply', { status: 'ok', implementation: 'forged' }, { key: 'not-the-key' });
    await peer.reply(request, 'kernel_info_reply', { status: 'ok', implementation: 'real' });
    expect((await pending).content().implementation).toBe('real');
    expect(reasons).toEqual(['shell:BAD_SIGNATURE']);
    expect(client.rejected).toBe(1);
  });

  it('delivers verified iopub to handlers and to an async iterator, in order, and drops forged ones', async () => {
    const { peer, client } = await setUp(transport);
    const feed = client.iopubMessages();
    const seen: string[] = [];
    client.onIopub((m) => void seen.push(m.msgType));
    await peer.subscribed();
    await peer.publish('status', { execution_state: 'busy' });
    await peer.publish('stream', { name: 'stdout', text: 'forged' }, { key: 'not-the-key' });
    await peer.publish('stream', { name: 'stdout', text: 'hello' });
    await peer.publish('status', { execution_state: 'idle' });
    const got: string[] = [];
    for await (const m of feed) {
      got.push(m.msgType === 'stream' ? m.content<{ text: string }>().text : m.content<{ execution_state: string }>().execution_state);
      if (got.length === 3) break;
    }
    expect(got).toEqual(['busy', 'hello', 'idle']);
    expect(seen).toEqual(['status', 'stream', 'status']);
    expect(client.rejected).toBe(1);
  });

  it('reads iopub through a custom decoder (unsigned single-frame JSON, as llmspell sends)', async () => {
    const decodeIopub = (frames: Buffer[]): WireMessage | undefined => {
      if (frames.length !== 1) return undefined;
      const { header, parent_header, content } = JSON.parse(frames[0]!.toString()) as Record<string, object | null>;
      const signed = [header, parent_header, {}, content].map((o) => Buffer.from(JSON.stringify(o))) as unknown as SignedFrames;
      return new WireMessage({ identities: [], signature: Buffer.alloc(0), signed, buffers: [] });
    };
    const rejected: string[] = [];
    const { peer, client } = await setUp(transport, { decodeIopub, onRejected: (_, reason) => rejected.push(reason) });
    const feed = client.iopubMessages();
    await peer.subscribed();
    await peer.publishRaw([Buffer.from('two'), Buffer.from('frames')]);
    // As llmspell 0.14 publishes: no topic, delimiter or signature, and parent_header null.
    const header = { msg_id: 'm1', msg_type: 'stream', session: 's', username: 'kernel', date: '', version: '5.3' };
    await peer.publishRaw([Buffer.from(JSON.stringify({ header, parent_header: null, metadata: {}, content: { name: 'stdout', text: 'from llmspell' } }))]);
    const { value } = await feed.next();
    expect(value?.msgType).toBe('stream');
    expect(value?.parentHeader).toEqual({});
    expect(value?.content()).toEqual({ name: 'stdout', text: 'from llmspell' });
    expect(rejected).toEqual(['UNDECODED']);
    await feed.return();
  });

  it('on close rejects waiting requests with CLIENT_CLOSED and ends iterators; later requests fail the same way', async () => {
    const { peer, client } = await setUp(transport);
    const feed = client.iopubMessages();
    const pending = client.request('kernel_info_request', {});
    await peer.nextRequest();
    const ended = feed.next();
    client.close();
    client.close();
    expect(codeOf(await pending.catch((e: unknown) => e))).toBe('CLIENT_CLOSED');
    expect(await ended).toEqual({ done: true, value: undefined });
    expect(codeOf(await client.request('kernel_info_request', {}).catch((e: unknown) => e))).toBe('CLIENT_CLOSED');
  });

  it('refuses a request on a channel it did not open', async () => {
    const { client } = await setUp(transport, { channels: ['shell'] });
    const error = await client.request('shutdown_request', { restart: false }, { channel: 'control' }).catch((e: unknown) => e);
    expect(codeOf(error)).toBe('CHANNEL_NOT_OPEN');
  });
});
