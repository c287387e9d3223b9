/**
 * Backend start times through the manager, for the tests that set an isolated backend against a
 * process one (container-backend, kube-launcher): each round acquires each runtime in turn and
 * stops it at once, so every sample is a cold start.
 */
import type { ManagerClient } from '../../src/fleet/manager/client.js';
import type { BackendHandle } from '../../src/fleet/manager/protocol.js';

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Milliseconds per acquire, by runtime (provider openai), `rounds` samples each. */
export async function acquireTimes<R extends string>(client: ManagerClient, runtimes: readonly R[], rounds: number): Promise<Record<R, number[]>> {
  const times = Object.fromEntries(runtimes.map((r) => [r, [] as number[]])) as Record<R, number[]>;
  for (let i = 0; i < rounds; i++) {
    for (const runtime of runtimes) {
      const t0 = performance.now();
      const handle = await client.request<BackendHandle>({ op: 'acquire', requirement: { runtime, provider: 'openai' }, routerId: `timing-${i}`, pid: process.pid });
      times[runtime].push(performance.now() - t0);
      await client.request({ op: 'stop', target: handle.record.kernelId });
    }
  }
  return times;
}
