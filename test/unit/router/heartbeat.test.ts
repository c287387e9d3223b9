/**
 * BackendHeartbeat against a real zmq REP socket that this test answers or stops answering:
 * silence is reported after the timeout, and an echo after silence is reported as recovery.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { BackendHeartbeat } from '../../../src/router/heartbeat.js';
import { silentLogger } from '../../../src/shared/log.js';
import type { ConnectionInfo } from '../../../src/wire/connection-file.js';
import { allocatePorts } from '../../../src/fleet/ports.js';

interface Change { responsive: boolean; silentMs: number; at: number }

function changes(): { list: Change[]; next(): Promise<Change>; onChange(responsive: boolean, silentMs: number): void } {
  const list: Change[] = [];
  let waiters: ((c: Change) => void)[] = [];
  let read = 0;
  return {
    list,
    next: () => new Promise((resolve) => {
      if (list.length > read) resolve(list[read++]!);
      else waiters.push((c) => { read++; resolve(c); });
    }),
    onChange(responsive, silentMs) {
      const c = { responsive, silentMs, at: Date.now() };
      list.push(c);
      const w = waiters;
      waiters = [];
      for (const f of w) f(c);
    },
  };
}

/** A REP socket whose echo can be turned off (messages are then read and not answered). */
async function echoPeer(port: number): Promise<{ socket: zmq.Reply; setAnswering(on: boolean): void }> {
  const socket = new zmq.Reply({ linger: 0 });
  await socket.bind(`tcp://127.0.0.1:${port}`);
  let answering = true;
  let held: Buffer[] | undefined;
  void (async () => {
    try {
      for await (const frames of socket) {
        if (answering) await socket.send(frames);
        else held = frames;
      }
    } catch {
      // closed
    }
  })();
  return {
    socket,
    setAnswering(on) {
      answering = on;
      // REP must answer before it can read again: the ping that arrived while silent goes back late.
      if (on && held) void socket.send(held);
      held = undefined;
    },
  };
}

const cleanup: (() => void)[] = [];
afterEach(() => { for (const f of cleanup.splice(0)) f(); });

describe('BackendHeartbeat', () => {
  it('reports silence after the timeout, and the echo coming back', async () => {
    const [port] = await allocatePorts('127.0.0.1', 1);
    const info = { transport: 'tcp', ip: '127.0.0.1', hb_port: port } as ConnectionInfo;
    const peer = await echoPeer(port!);
    cleanup.push(() => peer.socket.close());
    const seen = changes();
    const hb = new BackendHeartbeat({ info, logger: silentLogger(), timeoutMs: 400, intervalMs: 50, onChange: seen.onChange });
    cleanup.push(() => hb.close());
    hb.start();
    expect(await seen.next()).toMatchObject({ responsive: true });
    expect(hb.responsive).toBe(true);

    const silentFrom = Date.now();
    peer.setAnswering(false);
    const lost = await seen.next();
    expect(lost.responsive).toBe(false);
    expect(hb.responsive).toBe(false);
    expect(lost.silentMs).toBeGreaterThanOrEqual(400);
    // Noticed within the timeout plus about one interval, not much later.
    expect(lost.at - silentFrom).toBeLessThan(400 + 50 + 300);

    peer.setAnswering(true);
    expect(await seen.next()).toMatchObject({ responsive: true, silentMs: expect.any(Number) });
    expect(seen.list.map((c) => c.responsive)).toEqual([true, false, true]);
  });

  it('reports a backend that never answers as unresponsive', async () => {
    const [port] = await allocatePorts('127.0.0.1', 1);
    const info = { transport: 'tcp', ip: '127.0.0.1', hb_port: port } as ConnectionInfo;
    const seen = changes();
    const hb = new BackendHeartbeat({ info, logger: silentLogger(), timeoutMs: 200, intervalMs: 50, onChange: seen.onChange });
    cleanup.push(() => hb.close());
    hb.start();
    expect(await seen.next()).toMatchObject({ responsive: false });
  });
});
