import { describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { SendQueue, type FrameSink } from '../../../src/router/send-queue.js';
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
});
