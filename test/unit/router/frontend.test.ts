/**
 * Frontend over real zeromq sockets (ipc and tcp loopback) against a ClientPeer that connects
 * the way Jupyter's client does: requests are verified before the router sees them, replies
 * and broadcasts are signed with the client's key, hb is echoed, subscriptions are visible.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Frontend } from '../../../src/router/frontend.js';
import { silentLogger } from '../../../src/shared/log.js';
import { createMessage, encode, type WireMessage } from '../../../src/wire/codec.js';
import { createSigner } from '../../../src/wire/sign.js';
import { ClientPeer, Inbox, loopbackConnection, removeIpcDirs, type ReqChannel, type Transport } from '../../helpers/zmq-peers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f(); });
afterAll(removeIpcDirs);

interface Harness {
  frontend: Frontend;
  client: ClientPeer;
  requests: Inbox;
  channels: Map<WireMessage, ReqChannel>;
  dropped: string[];
  oversized: { channel: ReqChannel; msgType: string; bytes: number }[];
  subscribed: Promise<string>;
}

async function harness(transport: Transport, maxMessageBytes = 1 << 20): Promise<Harness> {
  const connection = await loopbackConnection(transport);
  const requests = new Inbox();
  const channels = new Map<WireMessage, ReqChannel>();
  const dropped: string[] = [];
  const oversized: Harness['oversized'] = [];
  let onSub!: (topic: string) => void;
  const subscribed = new Promise<string>((resolve) => (onSub = resolve));
  const frontend = new Frontend({
    connection,
    logger: silentLogger(),
    maxMessageBytes,
    onRequest: (channel, msg) => { channels.set(msg, channel); requests.push(msg); },
    onSubscribe: (topic) => onSub(topic),
    onDropped: (channel, reason) => dropped.push(`${channel}:${reason}`),
    onOversized: (channel, msg, bytes) => oversized.push({ channel, msgType: msg.msgType, bytes }),
  });
  await frontend.bind('router-session');
  cleanup.push(() => frontend.close(0));
  const client = new ClientPeer(connection);
  cleanup.push(() => client.close());
  return { frontend, client, requests, channels, dropped, oversized, subscribed };
}

describe.each(['ipc', 'tcp'] as const)('Frontend over %s', (transport) => {
  it.each(['shell', 'control', 'stdin'] as const)('hands a verified %s request to onRequest with the client routing id', async (channel) => {
    const h = await harness(transport);
    const sent = h.client.request(channel, 'kernel_info_request', { n: 1 });
    const got = await h.requests.next();
    expect(got.msgId).toBe(sent.msgId);
    expect(h.channels.get(got)).toBe(channel);
    expect(got.content()).toEqual({ n: 1 });
    expect(got.identities).toHaveLength(1);
  });

  it('answers a request on the same channel, signed with the client key and parented to it', async () => {
    const h = await harness(transport);
    const sent = h.client.request('shell', 'kernel_info_request', {});
    const got = await h.requests.next();
    h.frontend.reply('shell', got, 'kernel_info_reply', { status: 'ok' });
    const reply = await h.client.replyTo('shell', sent);
    expect(reply.msgType).toBe('kernel_info_reply');
    expect(reply.header.session).toBe('router-session');
    expect(reply.content()).toEqual({ status: 'ok' });
  });

  it('drops a request signed with another key and never hands it on', async () => {
    const h = await harness(transport);
    const forged = createMessage({ msgType: 'execute_request', content: { code: 'x' }, session: 's' });
    h.client.sendRaw('shell', encode(forged, createSigner('not-the-key', 'hmac-sha256')));
    const good = h.client.request('shell', 'kernel_info_request', {});
    // The good one arriving after the forged one shows the forged one was read and refused.
    expect((await h.requests.next()).msgId).toBe(good.msgId);
    expect(h.requests.all).toHaveLength(1);
    expect(h.dropped).toEqual(['frontend.shell:BAD_SIGNATURE']);
  });

  it('reports a properly signed request over the size limit as oversized, not as a request', async () => {
    const h = await harness(transport, 2000);
    h.client.request('shell', 'execute_request', { code: 'x'.repeat(5000) });
    const small = h.client.request('shell', 'kernel_info_request', {});
    expect((await h.requests.next()).msgId).toBe(small.msgId);
    expect(h.dropped).toEqual(['frontend.shell:TOO_LARGE']);
    expect(h.oversized).toEqual([{ channel: 'shell', msgType: 'execute_request', bytes: expect.any(Number) }]);
    expect(h.oversized[0]!.bytes).toBeGreaterThan(5000);
  });

  it('tells of a new subscriber, and broadcasts reach it signed with status on the kernel topic', async () => {
    const h = await harness(transport);
    expect(await h.subscribed).toBe('');
    h.frontend.broadcast('status', { execution_state: 'idle' }, { msg_id: 'p1' });
    const status = await h.client.inbox.iopub.next('status');
    expect(status.identities.map(String)).toEqual(['kernel.llmspell-fleet.status']);
    expect(status.content()).toEqual({ execution_state: 'idle' });
    expect(status.parentHeader.msg_id).toBe('p1');
  });

  it('publishes a relayed message as is, re-signed with the client key', async () => {
    const h = await harness(transport);
    await h.subscribed;
    const msg = createMessage({ msgType: 'stream', content: { name: 'stdout', text: 'hi' }, session: 'backend', identities: [Buffer.from('stream')] });
    h.frontend.publish(msg);
    const got = await h.client.inbox.iopub.next('stream');
    expect(got.msgId).toBe(msg.msgId);
    expect(got.header.session).toBe('backend');
  });

  it('echoes the client heartbeat', async () => {
    const h = await harness(transport);
    expect(await h.client.ping('beat-1')).toBe('beat-1');
  });

  it('has room on iopub while nothing is queued, and closes idempotently', async () => {
    const h = await harness(transport);
    expect(h.frontend.iopubRoom()).toBeUndefined();
    await Promise.all([h.frontend.close(0), h.frontend.close(0)]);
    // After close a send goes nowhere and throws nothing.
    expect(() => h.frontend.broadcast('status', { execution_state: 'idle' })).not.toThrow();
  });
});
