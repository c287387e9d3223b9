import { afterEach, describe, expect, it, vi } from 'vitest';
import { HeartbeatWatch } from '../../../../src/adapters/llmspell/health.js';
import type { LlmspellLink } from '../../../../src/adapters/llmspell/link.js';

/** A link whose heartbeat answers as scripted (true = echoed). */
function scriptedLink(answers: boolean[]): LlmspellLink & { pings: number } {
  const link = {
    pings: 0,
    ping: async () => {
      link.pings += 1;
      return answers.shift() ?? true;
    },
  };
  return link as unknown as LlmspellLink & { pings: number };
}

async function tick(): Promise<void> {
  await vi.advanceTimersByTimeAsync(1000);
}

describe('HeartbeatWatch', () => {
  afterEach(() => vi.useRealTimers());

  it('reports silence after three misses in a row while idle, once, and the recovery', async () => {
    vi.useFakeTimers();
    const link = scriptedLink([false, false, true, false, false, false, false, true]);
    const events: string[] = [];
    const watch = new HeartbeatWatch({ idleLink: () => link, onSilent: () => events.push('silent'), onAnswering: () => events.push('answering'), intervalMs: 1000 });
    watch.start();
    for (let i = 0; i < 8; i++) await tick();
    watch.stop();
    expect(link.pings).toBe(8);
    // two misses then an answer: nothing; then four misses: silent once; then an answer.
    expect(events).toEqual(['silent', 'answering']);
  });

  it('never pings while llmspell is busy (its heartbeat is silent during a cell)', async () => {
    vi.useFakeTimers();
    const link = scriptedLink([]);
    const events: string[] = [];
    const watch = new HeartbeatWatch({ idleLink: () => undefined, onSilent: () => events.push('silent'), onAnswering: () => undefined, intervalMs: 1000 });
    watch.start();
    for (let i = 0; i < 5; i++) await tick();
    watch.stop();
    expect(link.pings).toBe(0);
    expect(events).toEqual([]);
  });
});
