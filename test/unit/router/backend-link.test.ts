/**
 * BackendLink over real zeromq sockets (ipc and tcp loopback) against a KernelPeer: the
 * handshake, re-signing with the backend's key, what goes to clients and what stays with the
 * router (its own requests' replies and iopub), and oversized backend messages.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BackendLink, type RequestChannel } from '../../../src/router/backend-link.js';
import type { BackendLease } from '../../../src/router/types.js';
import { silentLogger } from '../../../src/shared/log.js';
import { createMessage, encode, type WireMessage } from '../../../src/wire/codec.js';
import { createSigner } from '../../../src/wire/sign.js';
import { Inbox, KernelPeer, removeIpcDirs, type Transport } from '../../helpers/zmq-peers.js';

const cleanup: (() => void)[] = [];
afterEach(() => { for (const f of cleanup.splice(0).reverse()) f(); });
afterAll(removeIpcDirs);

/** A lease on the peer: the router's own interface, nothing behind it. */
function leaseOn(peer: KernelPeer): BackendLease {
  return {
    kernelId: 'k1', pid: 1, connection: peer.info, interruptMode: 'message',
    requirement: { runtime: 'r', provider: 'p' }, exited: new Promise(() => {}),
    interrupt: () => {}, release: async () => {},
  };
}

interface Harness {
  peer: KernelPeer;
  link: BackendLink;
  clientBound: Inbox;
  clientBoundChannels: RequestChannel[];
  iopub: Inbox;
  rejected: string[];
  oversized: { channel: string; msgType: string; bytes: number }[];
}

async function harness(transport: Transport, maxMessageBytes?: number): Promise<Harness> {
  const peer = await KernelPeer.start(transport);
  cleanup.push(() => peer.close());
  const clientBound = new Inbox();
  const clientBoundChannels: RequestChannel[] = [];
  const iopub = new Inbox();
  const rejected: string[] = [];
  const oversized: Harness['oversized'] = [];
  const link = new BackendLink({
    lease: leaseOn(peer),
    logger: silentLogger(),
    ...(maxMessageBytes !== undefined ? { maxMessageBytes } : {}),
    onClientBound: (channel, msg) => { clientBoundChannels.push(channel); clientBound.push(msg); },
    onIopub: (msg) => iopub.push(msg),
    onRejected: (channel, reason) => rejected.push(`${channel}:${reason}`),
    onOversized: (channel, msg, bytes) => oversized.push({ channel, msgType: msg.msgType, bytes }),
  });
  cleanup.push(() => link.close());
  return { peer, link, clientBound, clientBoundChannels, iopub, rejected, oversized };
}

/** A client's request as the frontend hands it on: verified, with the client's routing id. */
function clientRequest(msgType: string, content: object = {}): WireMessage {
  return createMessage({ msgType, content, session: 'client', identities: [Buffer.from('client-1')] });
}

describe.each(['ipc', 'tcp'] as const)('BackendLink over %s', (transport) => {
  it('is ready after a kernel_info_reply and live iopub, and keeps both from the clients', async () => {
    const h = await harness(transport);
    await h.link.handshake(AbortSignal.timeout(20_000));
    const infos = h.peer.inbox.shell.all.filter((m) => m.msgType === 'kernel_info_request');
    expect(infos.length).toBeGreaterThanOrEqual(1);
    expect(infos[0]!.header.session).toBe(h.link.session);
    // The probe's reply and statuses are the router's own: nothing reached a client.
    expect(h.clientBound.all).toEqual([]);
    expect(h.iopub.all).toEqual([]);
    expect(h.peer.rejected).toEqual([]);
  });

  it('fails the handshake with the abort reason when nobody answers', async () => {
    const h = await harness(transport);
    h.peer.close();
    const stop = new AbortController();
    const handshake = h.link.handshake(stop.signal, 50);
    stop.abort(new Error('gave up'));
    await expect(handshake).rejects.toThrow('gave up');
  });

  it('forwards a client request with its routing ids and the backend key, and hands the reply back', async () => {
    const h = await harness(transport);
    const request = clientRequest('execute_request', { code: '1+1' });
    h.link.forward('shell', request);
    const got = await h.peer.inbox.shell.next('execute_request');
    expect(got.msgId).toBe(request.msgId);
    expect(got.content()).toEqual({ code: '1+1' });
    h.peer.reply('shell', got, 'execute_reply', { status: 'ok', execution_count: 1 });
    const reply = await h.clientBound.next('execute_reply');
    expect(h.clientBoundChannels).toEqual(['shell']);
    expect(reply.identities.map(String)).toEqual(['client-1']);
    expect(reply.parentHeader.msg_id).toBe(request.msgId);
    expect(h.peer.rejected).toEqual([]);
  });

  it('resolves its own request with the reply and keeps that request\'s iopub to itself', async () => {
    const h = await harness(transport);
    await h.link.handshake(AbortSignal.timeout(20_000));
    const reply = h.link.request('control', 'interrupt_request', {});
    const got = await h.peer.inbox.control.next('interrupt_request');
    h.peer.publish('status', { execution_state: 'busy' }, got.header);
    h.peer.reply('control', got, 'interrupt_reply', { status: 'ok' });
    expect((await reply).content()).toEqual({ status: 'ok' });
    // A message published after ours and seen by onIopub proves ours was read and kept back.
    h.peer.publish('stream', { name: 'stdout', text: 'later' });
    expect((await h.iopub.next()).msgType).toBe('stream');
    expect(h.iopub.all.map((m) => m.msgType)).toEqual(['stream']);
  });

  it('passes backend iopub on except its iopub_welcome', async () => {
    const h = await harness(transport);
    await h.link.handshake(AbortSignal.timeout(20_000));
    h.peer.publish('iopub_welcome', { subscription: '' });
    h.peer.publish('display_data', { data: {} }, { msg_id: 'cell-1' });
    const got = await h.iopub.next();
    expect(got.msgType).toBe('display_data');
    expect(got.parentHeader.msg_id).toBe('cell-1');
    expect(h.iopub.all).toHaveLength(1);
  });

  it('refuses a reply signed with another key', async () => {
    const h = await harness(transport);
    const request = clientRequest('complete_request');
    h.link.forward('shell', request);
    const got = await h.peer.inbox.shell.next((m) => m.msgId === request.msgId);
    const forged = createMessage({ msgType: 'complete_reply', content: {}, session: 'x', parentHeader: got.header, identities: got.identities });
    h.peer.sendRaw('shell', encode(forged, createSigner('other-key', 'hmac-sha256')));
    h.peer.reply('shell', got, 'complete_reply', { status: 'ok' });
    const reply = await h.clientBound.next();
    expect(reply.msgId).not.toBe(forged.msgId);
    expect(h.rejected).toEqual(['backend.shell:BAD_SIGNATURE']);
  });

  it('reports an oversized reply to a client, but not one to its own request', async () => {
    const h = await harness(transport, 3000);
    const own = h.link.request('shell', 'execute_request', { code: 'mine' });
    const ownGot = await h.peer.inbox.shell.next((m) => m.header.session === h.link.session && m.msgType === 'execute_request');
    h.peer.reply('shell', ownGot, 'execute_reply', { text: 'y'.repeat(5000) });
    const request = clientRequest('execute_request', { code: 'theirs' });
    h.link.forward('shell', request);
    const got = await h.peer.inbox.shell.next((m) => m.msgId === request.msgId);
    h.peer.reply('shell', got, 'execute_reply', { text: 'z'.repeat(5000) });
    h.peer.reply('shell', got, 'complete_reply', { status: 'ok' });
    await h.clientBound.next('complete_reply');
    expect(h.rejected).toEqual(['backend.shell:TOO_LARGE', 'backend.shell:TOO_LARGE']);
    expect(h.oversized).toEqual([{ channel: 'shell', msgType: 'execute_reply', bytes: expect.any(Number) }]);
    expect(h.clientBound.all.map((m) => m.msgType)).toEqual(['complete_reply']);
    void own;
  });

  it('closes idempotently and sends nothing after', async () => {
    const h = await harness(transport);
    h.link.close();
    h.link.close();
    expect(() => h.link.forward('shell', clientRequest('kernel_info_request'))).not.toThrow();
  });
});
