import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { SendQueue, type FrameSink } from '../../../src/wire/send-queue.js';
import { silentLogger } from '../../../src/shared/log.js';

/** A sink that holds each send until released, to see what the queue does meanwhile. */
function gatedSink() {
  const received: string[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const gates: (() => void)[] = [];
  const sink: FrameSink = {
    send(frames) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return new Promise((resolve) => gates.push(() => { inFlight--; received.push(frames[0]!.toString()); resolve(); }));
    },
  };
  return { sink, received, gates, maxInFlight: () => maxInFlight };
}

describe('SendQueue', () => {
  it('keeps one send in flight and preserves order', async () => {
    const g = gatedSink();
    const q = new SendQueue(g.sink, { name: 't', logger: silentLogger() });
    for (let i = 0; i < 5; i++) q.push([Buffer.from(String(i))]);
    while (g.received.length < 5) {
      await Promise.resolve();
      g.gates.shift()?.();
    }
    await q.drained();
    expect(g.received).toEqual(['0', '1', '2', '3', '4']);
    expect(g.maxInFlight()).toBe(1);
    expect(q.sent).toBe(5);
  });

  it('refuses and counts messages beyond capacity', () => {
    const g = gatedSink();
    const q = new SendQueue(g.sink, { name: 't', logger: silentLogger(), capacity: 2 });
    // The first push starts sending at once, so it no longer counts against the depth.
    expect([q.push([Buffer.from('a')]), q.push([Buffer.from('b')]), q.push([Buffer.from('c')]), q.push([Buffer.from('d')])]).toEqual([true, true, true, false]);
    expect(q.dropped).toBe(1);
    q.close();
  });

  it('reports send failures with the frames that failed', async () => {
    const failures: string[] = [];
    const sink: FrameSink = { send: () => Promise.reject(Object.assign(new Error('gone'), { code: 'EHOSTUNREACH' })) };
    const q = new SendQueue(sink, { name: 't', logger: silentLogger(), onSendError: (e, f) => failures.push(`${(e as { code: string }).code}:${f[0]}`) });
    q.push([Buffer.from('x')]);
    await q.drained();
    expect(failures).toEqual(['EHOSTUNREACH:x']);
    expect(q.failed).toBe(1);
  });

  it('never triggers EBUSY on a real zeromq socket under a burst', async () => {
    const push = new zmq.Push({ linger: 0, sendHighWaterMark: 10 });
    const pull = new zmq.Pull({ linger: 0 });
    await pull.bind('tcp://127.0.0.1:*');
    push.connect(pull.lastEndpoint!);
    const q = new SendQueue(push, { name: 'push', logger: silentLogger() });
    const n = 5000;
    for (let i = 0; i < n; i++) q.push([Buffer.from(String(i))]);
    let next = 0;
    for await (const [frame] of pull) {
      expect(frame!.toString()).toBe(String(next++));
      if (next === n) break;
    }
    await q.drained();
    expect(q.failed).toBe(0);
    push.close();
    pull.close();
  });

  it('delivers every frame byte for byte through a real socket, text or binary', async () => {
    const push = new zmq.Push({ linger: 0 });
    const pull = new zmq.Pull({ linger: 0 });
    await pull.bind('tcp://127.0.0.1:*');
    push.connect(pull.lastEndpoint!);
    const q = new SendQueue(push, { name: 'push', logger: silentLogger() });
    const frames = [
      Buffer.from('<IDS|MSG>'),
      Buffer.from(JSON.stringify({ text: 'caf\u00e9 \ud83d\ude00 \u0000'.repeat(20) })),
      Buffer.concat([Buffer.alloc(300, 0x61), Buffer.from([0xff, 0xc0, 0xed, 0xa0, 0x80])]),
      Buffer.alloc(70_000, 0x62),
    ];
    q.push(frames);
    const received = await pull.receive();
    expect(received).toHaveLength(frames.length);
    received.forEach((f, i) => expect(f.equals(frames[i]!)).toBe(true));
    push.close();
    pull.close();
  });

  it('room(): undefined below the high mark, else resolves once drained to the low mark', async () => {
    const g = gatedSink();
    const q = new SendQueue(g.sink, { name: 't', logger: silentLogger() });
    expect(q.room(3, 1)).toBeUndefined();
    // The first push goes straight into the sink; the next four wait: depth 4.
    for (let i = 0; i < 5; i++) q.push([Buffer.from(String(i))]);
    expect(q.depth).toBe(4);
    let roomy = false;
    const room = q.room(3, 1);
    expect(room).toBeInstanceOf(Promise);
    void room!.then(() => (roomy = true));
    const release = async () => { g.gates.shift()?.(); await new Promise((r) => setImmediate(r)); };
    await release();
    await release();
    expect(q.depth).toBe(2);
    expect(roomy).toBe(false);
    await release();
    expect(q.depth).toBe(1);
    expect(roomy).toBe(true);
    q.close();
  });

  it('waitWhenFull: a NODROP XPUB behind a stalled subscriber loses nothing; the messages go once it reads', async () => {
    const pub = new zmq.XPublisher({ linger: 0, sendHighWaterMark: 5, noDrop: true });
    await pub.bind('tcp://127.0.0.1:*');
    const sub = new zmq.Subscriber({ linger: 0, receiveHighWaterMark: 5 });
    sub.subscribe();
    sub.connect(pub.lastEndpoint!);
    await pub.receive(); // the subscription: the subscriber is connected
    const errors: unknown[] = [];
    const q = new SendQueue(pub, { name: 'iopub', logger: silentLogger(), waitWhenFull: true, onSendError: (e) => errors.push(e) });
    const n = 2000;
    for (let i = 0; i < n; i++) q.push([Buffer.from(String(i)), Buffer.alloc(10_000)]);
    // Nobody reads yet: the queue must stall on a full subscriber (EAGAIN) instead of dropping.
    while (q.full === 0) await new Promise((r) => setTimeout(r, 5));
    expect(q.depth).toBeGreaterThan(0);
    let next = 0;
    for await (const [frame] of sub) {
      expect(frame!.toString()).toBe(String(next++));
      if (next === n) break;
    }
    await q.drained();
    expect(errors).toEqual([]);
    expect(q.failed).toBe(0);
    expect(q.sent).toBe(n);
    q.close();
    pub.close();
    sub.close();
  });
});
