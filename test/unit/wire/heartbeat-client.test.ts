/**
 * HeartbeatClient against a scripted kernel's REP socket that the test lets answer or not: an
 * echo gives a round trip, silence gives undefined after the timeout, and the next ping after
 * silence works again (a new REQ socket; the late echo of the lost ping is not taken for it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { HeartbeatClient, pingHeartbeat } from '../../../src/wire/heartbeat-client.js';
import { ScriptedKernel } from '../../helpers/scripted-kernel.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setUp(transport: 'tcp' | 'ipc') {
  const peer = await ScriptedKernel.start(transport);
  cleanup.push(() => peer.close());
  const hb = new HeartbeatClient({ connection: peer.info });
  cleanup.push(() => hb.close());
  return { peer, hb };
}

describe.each(['tcp', 'ipc'] as const)('HeartbeatClient over %s', (transport) => {
  it('returns the round trip of an echo, for pings that overlap too', async () => {
    const { hb } = await setUp(transport);
    const rtts = await Promise.all([hb.ping(5000), hb.ping(5000), hb.ping(5000)]);
    for (const rtt of rtts) expect(rtt).toBeGreaterThanOrEqual(0);
  });

  it('gives undefined after the timeout while the kernel is silent, and recovers when it answers again', async () => {
    const { peer, hb } = await setUp(transport);
    expect(await hb.ping(5000)).toBeGreaterThanOrEqual(0);
    peer.setHeartbeat(false);
    expect(await hb.ping(100)).toBeUndefined();
    // The held ping is echoed now, to a socket that is gone; the next ping must not wedge on it.
    peer.setHeartbeat(true);
    expect(await hb.ping(5000)).toBeGreaterThanOrEqual(0);
    expect(await hb.ping(5000)).toBeGreaterThanOrEqual(0);
  });

  it('rejects with the signal reason on abort, and pings again afterwards', async () => {
    const { peer, hb } = await setUp(transport);
    peer.setHeartbeat(false);
    const controller = new AbortController();
    const pending = hb.ping(60_000, controller.signal);
    controller.abort(new Error('stop waiting'));
    await expect(pending).rejects.toThrow('stop waiting');
    peer.setHeartbeat(true);
    expect(await hb.ping(5000)).toBeGreaterThanOrEqual(0);
  });

  it('pingHeartbeat gives undefined when nothing answers, and closed clients ping no more', async () => {
    const { peer, hb } = await setUp(transport);
    peer.setHeartbeat(false);
    expect(await pingHeartbeat(peer.info, 100)).toBeUndefined();
    hb.close();
    expect(await hb.ping(5000)).toBeUndefined();
  });
});
