/** RestartSupervisor with a recorded clock and timer: notices, error replies, restart backoff and limit. */
import { describe, expect, it } from 'vitest';
import type { RequestChannel } from '../../../src/router/backend-link.js';
import { RestartSupervisor, type SupervisedSlot } from '../../../src/router/supervisor.js';
import type { RestartPolicy } from '../../../src/router/restart-policy.js';
import { silentLogger } from '../../../src/shared/log.js';
import { createMessage, type WireMessage } from '../../../src/wire/codec.js';

interface FakeSlot extends SupervisedSlot { closed: { stop: boolean }[]; inFlight: { channel: RequestChannel; msg: WireMessage }[] }

function slot(inFlight: WireMessage[] = []): FakeSlot {
  const s: FakeSlot = {
    key: 'lua/openai',
    requirement: { runtime: 'lua', provider: 'openai' },
    lease: { kernelId: 'k1', pid: 4242 },
    closed: [],
    inFlight: inFlight.map((msg) => ({ channel: 'shell' as const, msg })),
    takeInFlight: () => s.inFlight.splice(0),
    close: async (o) => { s.closed.push(o); },
  };
  return s;
}

function supervisor(policy?: RestartPolicy) {
  let now = 1_000_000;
  const timers: { delayMs: number; run: () => void }[] = [];
  const failed: { msgType: string; reason: string }[] = [];
  const iopub: { msgType: string; content: Record<string, unknown> }[] = [];
  const restarted: FakeSlot[] = [];
  const sup = new RestartSupervisor<FakeSlot>({
    replies: {
      failed: (_c, msg, reason) => failed.push({ msgType: msg.msgType, reason }),
      broadcast: (msgType, content) => iopub.push({ msgType, content: content as Record<string, unknown> }),
    },
    logger: silentLogger(),
    ...(policy ? { policy } : {}),
    restart: (s) => restarted.push(s),
    now: () => now,
    schedule: (run, delayMs) => timers.push({ run, delayMs }),
  });
  return { sup, timers, failed, iopub, restarted, advance: (ms: number) => (now += ms) };
}

const text = (m: { content: Record<string, unknown> }) => String(m.content.text);

describe('RestartSupervisor.exited', () => {
  it('tells clients, fails what the backend had taken, lets the slot go and restarts after the first delay', () => {
    const h = supervisor({ limit: 5, windowMs: 60_000, firstDelayMs: 250 });
    const s = slot([createMessage({ msgType: 'execute_request', content: {}, session: 'c' })]);
    h.sup.exited(s, 'was killed by SIGKILL');
    expect(h.iopub.map((m) => m.msgType)).toEqual(['stream', 'status']);
    expect(text(h.iopub[0]!)).toBe('llmspell-fleet: the lua/openai backend (pid 4242) was killed by SIGKILL. Its state is lost; a new one is starting.\n');
    expect(h.iopub[1]!.content).toEqual({ execution_state: 'restarting' });
    expect(h.failed).toEqual([{ msgType: 'execute_request', reason: 'the lua/openai backend (pid 4242) was killed by SIGKILL before it answered; run it again' }]);
    expect(s.closed).toEqual([{ stop: false }]);
    expect(h.timers.map((t) => t.delayMs)).toEqual([250]);
    expect(h.restarted).toEqual([]);
    h.timers[0]!.run();
    expect(h.restarted).toEqual([s]);
  });

  it("a crash's last output goes to every client and to the cell it was running", () => {
    const h = supervisor({ limit: 5, windowMs: 60_000, firstDelayMs: 250 });
    const s = slot([createMessage({ msgType: 'execute_request', content: {}, session: 'c' })]);
    h.sup.exited(s, 'exited with code 1', { lastOutput: 'panic: index out of range' });
    expect(text(h.iopub[0]!)).toBe('llmspell-fleet: the lua/openai backend (pid 4242) exited with code 1. Its state is lost; a new one is starting.\nIts last output:\npanic: index out of range\n');
    expect(h.failed).toEqual([{ msgType: 'execute_request', reason: 'the lua/openai backend (pid 4242) exited with code 1 before it answered; run it again. Its last output:\npanic: index out of range' }]);
  });

  it('doubles the delay for each death in the window, then stops restarting past the limit', () => {
    const h = supervisor({ limit: 2, windowMs: 60_000, firstDelayMs: 100 });
    for (let i = 0; i < 3; i++) {
      h.sup.exited(slot(), 'exited with code 1');
      h.advance(1000);
    }
    expect(h.timers.map((t) => t.delayMs)).toEqual([100, 200]);
    expect(text(h.iopub.at(-1)!)).toContain('it died 3 times in a minute, so it is not restarted until the next request.');
  });

  it('forgets deaths older than the window', () => {
    const h = supervisor({ limit: 1, windowMs: 10_000, firstDelayMs: 100 });
    h.sup.exited(slot(), 'exited with code 1');
    h.advance(10_000);
    h.sup.exited(slot(), 'exited with code 1');
    expect(h.timers.map((t) => t.delayMs)).toEqual([100, 100]);
  });

  it('says restarts are off with limit 0 and schedules none', () => {
    const h = supervisor({ limit: 0, windowMs: 60_000, firstDelayMs: 100 });
    h.sup.exited(slot(), 'exited with code 3');
    expect(h.timers).toEqual([]);
    expect(h.iopub.map((m) => m.msgType)).toEqual(['stream']);
    expect(text(h.iopub[0]!)).toContain('automatic restarts are off (router.restart_limit = 0)');
  });

  it('an end on purpose (culled) is told with what happens next, not restarted, and not counted as a death', () => {
    const h = supervisor({ limit: 1, windowMs: 60_000, firstDelayMs: 100 });
    const s = slot([createMessage({ msgType: 'execute_request', content: {}, session: 'c' })]);
    expect(h.sup.exited(s, 'was culled after 2 s without running a cell (idle_cull_seconds)', { restart: false })).toBe(false);
    expect(h.timers).toEqual([]);
    expect(h.iopub.map((m) => m.msgType)).toEqual(['stream']);
    expect(text(h.iopub[0]!)).toBe(
      'llmspell-fleet: the lua/openai backend (pid 4242) was culled after 2 s without running a cell (idle_cull_seconds). Its state is lost; the next cell starts a new one.\n',
    );
    expect(s.closed).toEqual([{ stop: false }]);
    // With limit 1, a death right after would be past the limit had the cull counted.
    expect(h.sup.exited(slot(), 'exited with code 1')).toBe(true);
  });
});

describe('RestartSupervisor.heartbeat', () => {
  it.each([
    [false, 3000, 'has not answered its heartbeat for 3.0 s'],
    [true, 0, 'answers its heartbeat again'],
  ])('responsive=%s silent %i ms -> "%s"', (responsive, silentMs, words) => {
    const h = supervisor();
    h.sup.heartbeat(slot(), responsive, silentMs);
    expect(h.iopub).toHaveLength(1);
    expect(text(h.iopub[0]!)).toContain(`the lua/openai backend (pid 4242) ${words}`);
  });
});
