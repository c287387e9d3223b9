/**
 * ProxyRouter with two backends (KernelPeers counting on their own) and its own magics: the
 * client sees one execution count for the session, in the order the cells were sent, however
 * the backends answer, and history of the session comes from the router with those numbers.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ProxyRouter, type RequestResolver } from '../../../src/router/proxy.js';
import { silentLogger } from '../../../src/shared/log.js';
import type { WireMessage } from '../../../src/wire/codec.js';
import { FakeDirectory, leaseOn } from '../../helpers/fake-directory.js';
import { ClientPeer, KernelPeer, loopbackConnection, removeIpcDirs } from '../../helpers/zmq-peers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f(); });
afterAll(removeIpcDirs);

/** Cells with metadata {runtime} go to that runtime's peer; the rest to lua. */
const resolver: RequestResolver = {
  resolve: ({ metadata }) => ({ requirement: { runtime: (metadata as { runtime?: string }).runtime ?? 'lua', provider: 'openai' } }),
};

async function start() {
  const peers = new Map<string, KernelPeer>();
  for (const runtime of ['lua', 'python']) {
    const peer = await KernelPeer.start('ipc');
    peers.set(runtime, peer);
    cleanup.push(() => peer.close());
  }
  const directory = new FakeDirectory((requirement) => leaseOn(peers.get(requirement.runtime)!, { requirement }));
  const connection = await loopbackConnection('ipc');
  const router = new ProxyRouter({ connection, requirement: { runtime: 'lua', provider: 'openai' }, logger: silentLogger(), directory, resolver });
  await router.start();
  cleanup.push(() => router.stop());
  const client = new ClientPeer(connection);
  cleanup.push(() => client.close());
  await client.inbox.iopub.next('iopub_welcome');
  return { peers, client };
}

/** What a kernel counting on its own sends for a cell: execute_input, execute_result, reply, idle. */
function answer(peer: KernelPeer, request: WireMessage, ownCount: number): void {
  peer.publish('status', { execution_state: 'busy' }, request.header);
  peer.publish('execute_input', { code: request.content<{ code: string }>().code, execution_count: ownCount }, request.header);
  peer.publish('execute_result', { data: { 'text/plain': 'r' }, metadata: {}, execution_count: ownCount }, request.header);
  peer.reply('shell', request, 'execute_reply', { status: 'ok', execution_count: ownCount, user_expressions: {}, payload: [] });
  peer.publish('status', { execution_state: 'idle' }, request.header);
}

async function countsSeen(client: ClientPeer, request: WireMessage): Promise<unknown[]> {
  const input = await client.iopubFor(request, 'execute_input');
  const reply = await client.replyTo('shell', request);
  const result = request.content<{ code: string }>().code.startsWith('%llmspell') ? undefined : await client.iopubFor(request, 'execute_result');
  return [input.content().execution_count, result?.content().execution_count ?? '-', reply.content().execution_count];
}

describe('ProxyRouter: one execution count per session', () => {
  it('numbers cells 1, 2, 3, 4 across two backends and a magic, in sending order, though the second backend answers first', async () => {
    const { peers, client } = await start();
    const a = client.request('shell', 'execute_request', { code: 'a = 1' });
    const b = client.request('shell', 'execute_request', { code: 'b = 2' }, { runtime: 'python' });
    const c = client.request('shell', 'execute_request', { code: '%llmspell help' });
    const d = client.request('shell', 'execute_request', { code: 'd = 4' }, { runtime: 'python' });
    const lua = peers.get('lua')!;
    const python = peers.get('python')!;
    const gotB = await python.inbox.shell.next((m) => m.msgId === b.msgId);
    const gotD = await python.inbox.shell.next((m) => m.msgId === d.msgId);
    answer(python, gotB, 1);
    answer(python, gotD, 2);
    const gotA = await lua.inbox.shell.next((m) => m.msgId === a.msgId);
    answer(lua, gotA, 1);
    expect(await countsSeen(client, a)).toEqual([1, 1, 1]);
    expect(await countsSeen(client, b)).toEqual([2, 2, 2]);
    expect(await countsSeen(client, c)).toEqual([3, '-', 3]);
    expect(await countsSeen(client, d)).toEqual([4, 4, 4]);

    // History of the session: from the router, with the session's numbers; the backends never see it.
    const history = client.request('shell', 'history_request', { hist_access_type: 'tail', n: 10, output: false, raw: true });
    expect((await client.replyTo('shell', history)).content()).toEqual({
      status: 'ok',
      history: [[0, 1, 'a = 1'], [0, 2, 'b = 2'], [0, 3, '%llmspell help'], [0, 4, 'd = 4']],
    });
    for (const peer of peers.values()) expect(peer.inbox.shell.all.map((m) => m.msgType)).not.toContain('history_request');
  });

  it('two clients of one router share its numbering', async () => {
    const { peers, client } = await start();
    const other = new ClientPeer(client.info);
    cleanup.push(() => other.close());
    await other.inbox.iopub.next('iopub_welcome');
    const lua = peers.get('lua')!;
    const a = client.request('shell', 'execute_request', { code: 'a' });
    answer(lua, await lua.inbox.shell.next((m) => m.msgId === a.msgId), 1);
    expect((await client.replyTo('shell', a)).content().execution_count).toBe(1);
    const b = other.request('shell', 'execute_request', { code: 'b' });
    answer(lua, await lua.inbox.shell.next((m) => m.msgId === b.msgId), 9);
    expect((await other.replyTo('shell', b)).content().execution_count).toBe(2);
    // Each client sees the other's cell on iopub with the session's number too.
    expect((await client.iopubFor(b, 'execute_input')).content().execution_count).toBe(2);
  });

  it('a silent cell takes no count, and its reply reads the count as it stands', async () => {
    const { peers, client } = await start();
    const a = client.request('shell', 'execute_request', { code: 'a = 1' });
    const quiet = client.request('shell', 'execute_request', { code: '', silent: true });
    const lua = peers.get('lua')!;
    answer(lua, await lua.inbox.shell.next((m) => m.msgId === a.msgId), 7);
    const gotQuiet = await lua.inbox.shell.next((m) => m.msgId === quiet.msgId);
    lua.reply('shell', gotQuiet, 'execute_reply', { status: 'ok', execution_count: 7, user_expressions: {}, payload: [] });
    expect((await client.replyTo('shell', quiet)).content()).toMatchObject({ execution_count: 1 });
  });

  it('relays a history request before the first cell to the default backend (earlier sessions)', async () => {
    const { peers, client } = await start();
    const history = client.request('shell', 'history_request', { hist_access_type: 'tail', n: 10, output: false, raw: true });
    const lua = peers.get('lua')!;
    const got = await lua.inbox.shell.next('history_request');
    lua.reply('shell', got, 'history_reply', { status: 'ok', history: [[3, 1, 'from before']] });
    expect((await client.replyTo('shell', history)).content()).toEqual({ status: 'ok', history: [[3, 1, 'from before']] });
  });
});

describe('ProxyRouter: replies when the backend cannot start', () => {
  it.each<[string, object, string, object]>([
    ['is_complete_request', { code: 'x = ' }, 'is_complete_reply', { status: 'unknown' }],
    ['complete_request', { code: 'pri', cursor_pos: 3 }, 'complete_reply', { status: 'ok', matches: [], cursor_start: 3, cursor_end: 3, metadata: {} }],
    ['inspect_request', { code: 'x', cursor_pos: 1, detail_level: 0 }, 'inspect_reply', { status: 'ok', found: false, data: {}, metadata: {} }],
    ['history_request', { hist_access_type: 'tail', n: 10, output: false, raw: true }, 'history_reply', { status: 'ok', history: [] }],
    ['comm_info_request', {}, 'comm_info_reply', { status: 'ok', comms: {} }],
  ])('%s -> %s %j', async (msgType, content, replyType, expected) => {
    const directory = new FakeDirectory(() => new Error('runtime "lua": llmspell not found'));
    const connection = await loopbackConnection('ipc');
    const router = new ProxyRouter({ connection, requirement: { runtime: 'lua', provider: 'openai' }, logger: silentLogger(), directory });
    await router.start();
    cleanup.push(() => router.stop());
    const client = new ClientPeer(connection);
    cleanup.push(() => client.close());
    const request = client.request('shell', msgType, content);
    const reply = await client.replyTo('shell', request);
    expect(reply.msgType).toBe(replyType);
    expect(reply.content()).toEqual(expected);
  });
});
