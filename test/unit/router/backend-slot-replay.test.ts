/**
 * BackendSlot and the output a shared backend printed while no client was attached: taken from
 * the lease when the slot starts, shown (onReplay) with the first cell only; and the cells still running reported when the slot leaves.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { BackendSlot, type SlotEvents } from '../../../src/router/backend-slot.js';
import type { DetachedOutput } from '../../../src/shared/detached-output.js';
import { silentLogger } from '../../../src/shared/log.js';
import { createMessage, type WireMessage } from '../../../src/wire/codec.js';
import { FakeDirectory, leaseOn, type FakeLease } from '../../helpers/fake-directory.js';
import { KernelPeer, removeIpcDirs } from '../../helpers/zmq-peers.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { for (const f of cleanup.splice(0).reverse()) await f(); });
afterAll(removeIpcDirs);

const requirement = { runtime: 'python', provider: 'openai' };
const KEPT: DetachedOutput = { kernelId: 'k', since: 0, entries: [{ msgType: 'stream', at: 0, content: { name: 'stdout', text: 'after 0\n' } }], dropped: 0, limits: { messages: 10, bytes: 1000 } };

const fromClient = (msgType: string, content: object = {}): WireMessage =>
  createMessage({ msgType, content, session: 'client', identities: [Buffer.from('client-1')] });

/** A ready slot whose lease holds `kept`; records onReplay and what reached the backend, in order. */
async function replaySlot(kept: DetachedOutput | undefined) {
  const p = await KernelPeer.start('ipc');
  cleanup.push(() => p.close());
  let lease!: FakeLease;
  const taken: number[] = [];
  const directory = new FakeDirectory((req) => {
    lease = leaseOn(p, { requirement: req, shared: true });
    return Object.assign(lease, { takeDetachedOutput: async () => (taken.push(1), kept) });
  });
  const replays: { output: DetachedOutput; request: WireMessage }[] = [];
  const events: SlotEvents = {
    onClientBound: () => {},
    onIopub: () => {},
    onRejected: () => {},
    onUnserved: () => {},
    onFailed: () => {},
    onExited: () => {},
    onReplay: (_s, output, request) => {
      replays.push({ output, request });
    },
  };
  const s = new BackendSlot({ requirement, directory, logger: silentLogger(), events });
  cleanup.push(() => s.close({ stop: false }));
  await s.start();
  return { p, lease: () => lease, s, replays, taken };
}

describe('BackendSlot: output kept while no client was attached', () => {
  it('is taken once at start and shown with the first execute_request only', async () => {
    const { p, s, replays, taken } = await replaySlot(KEPT);
    expect(taken).toEqual([1]);
    s.submit('shell', fromClient('kernel_info_request'));
    const first = fromClient('execute_request', { code: 'print("mine")' });
    s.submit('shell', first);
    s.submit('shell', fromClient('execute_request', { code: 'second' }));
    await p.inbox.shell.next('execute_request');
    await p.inbox.shell.next('execute_request');
    expect(replays).toEqual([{ output: KEPT, request: first }]);
  });

  it('shows nothing when the manager kept nothing', async () => {
    const { p, s, replays } = await replaySlot(undefined);
    s.submit('shell', fromClient('execute_request', { code: 'x' }));
    await p.inbox.shell.next('execute_request');
    expect(replays).toEqual([]);
  });

  it('names the cells of ours still running when it leaves a shared backend, and none when it stops it', async () => {
    const { p, s, lease } = await replaySlot(undefined);
    const cell = fromClient('execute_request', { code: 'for i in range(3):\n  wait()' });
    s.submit('shell', cell);
    await p.inbox.shell.next('execute_request');
    await s.close({ stop: false });
    expect(lease().releases).toEqual([{ stop: false, running: [{ msgId: cell.msgId, code: 'for i in range(3):\n  wait()', date: cell.header.date }] }]);

    const other = await replaySlot(undefined);
    other.s.submit('shell', fromClient('execute_request', { code: 'x' }));
    await other.p.inbox.shell.next('execute_request');
    await other.s.close({ stop: true });
    expect(other.lease().releases).toEqual([{ stop: true }]);
  });
});
