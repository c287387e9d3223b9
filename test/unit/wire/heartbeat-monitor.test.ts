/**
 * HeartbeatMonitor against a scripted kernel whose hb the test silences and restores: responsive
 * after the first echo, unresponsive after timeoutMs of silence, responsive again on an echo.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { pingHeartbeat } from '../../../src/wire/heartbeat-client.js';
import { HeartbeatMonitor } from '../../../src/wire/heartbeat-monitor.js';
import { ScriptedKernel } from '../../helpers/scripted-kernel.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

interface Change { responsive: boolean; silentMs: number }

/** Changes as they are reported, taken one at a time. */
function changes() {
  const list: Change[] = [];
  const waiters: ((c: Change) => void)[] = [];
  let read = 0;
  return {
    list,
    onChange(responsive: boolean, silentMs: number) {
      const c = { responsive, silentMs };
      list.push(c);
      waiters.shift()?.(c);
    },
    next(): Promise<Change> {
      if (list.length > read) return Promise.resolve(list[read++]!);
      return new Promise((resolve) => waiters.push((c) => { read++; resolve(c); }));
    },
  };
}

describe('HeartbeatMonitor', () => {
  it('reports responsive, then silence after the timeout, then the echo coming back', async () => {
    const peer = await ScriptedKernel.start('tcp');
    cleanup.push(() => peer.close());
    const seen = changes();
    // A timeout well above an in-process echo on a busy machine: the first report must be the echo.
    const monitor = new HeartbeatMonitor({ connection: peer.info, timeoutMs: 1000, intervalMs: 100, onChange: seen.onChange });
    cleanup.push(() => monitor.close());
    monitor.start();
    expect(await seen.next()).toMatchObject({ responsive: true });
    expect(monitor.responsive).toBe(true);

    peer.setHeartbeat(false);
    const lost = await seen.next();
    expect(lost.responsive).toBe(false);
    expect(lost.silentMs).toBeGreaterThanOrEqual(1000);
    expect(monitor.responsive).toBe(false);

    peer.setHeartbeat(true);
    expect(await seen.next()).toMatchObject({ responsive: true });
    expect(seen.list.map((c) => c.responsive)).toEqual([true, false, true]);
  });

  it('reports a kernel that never answers as unresponsive, and nothing after close', async () => {
    const peer = await ScriptedKernel.start('ipc');
    cleanup.push(() => peer.close());
    peer.setHeartbeat(false);
    const seen = changes();
    const monitor = new HeartbeatMonitor({ connection: peer.info, timeoutMs: 150, intervalMs: 30, onChange: seen.onChange });
    monitor.start();
    expect(await seen.next()).toMatchObject({ responsive: false });
    monitor.close();
    peer.setHeartbeat(true);
    // The kernel answers again (a fresh client's round trip shows it); the closed monitor says nothing.
    expect(await pingHeartbeat(peer.info, 5000)).toBeGreaterThanOrEqual(0);
    expect(seen.list.map((c) => c.responsive)).toEqual([false]);
  });
});
