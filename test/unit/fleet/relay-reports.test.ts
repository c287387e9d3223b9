import { describe, expect, it } from 'vitest';
import { RelayReports } from '../../../src/fleet/relay-reports.js';
import { TO_BACKEND, type RelayDelta } from '../../../src/shared/relay-counts.js';

function harness() {
  const sent: [string, RelayDelta][] = [];
  let connected = true;
  let tick: (() => void) | undefined;
  const reports = new RelayReports({
    send: (kernelId, delta) => {
      if (!connected) return false;
      sent.push([kernelId, delta]);
      return true;
    },
    every: (run) => {
      tick = run;
      return () => (tick = undefined);
    },
  });
  return { reports, sent, tick: () => tick?.(), running: () => tick !== undefined, connect: (on: boolean) => (connected = on) };
}

const messages = (sent: [string, RelayDelta][]) => sent.map(([k, d]) => [k, d.relayed?.[0]?.messages]);

describe('RelayReports', () => {
  it('coalesces: one delta per backend per interval, none for a backend with nothing new', () => {
    const h = harness();
    const a = h.reports.countsFor('a');
    h.reports.countsFor('b');
    for (let i = 0; i < 1000; i++) a.relayed(TO_BACKEND.shell, 1);
    h.tick();
    expect(messages(h.sent)).toEqual([['a', 1000]]);
    h.tick();
    expect(h.sent).toHaveLength(1);
  });

  it('the same counts for the same backend', () => {
    const h = harness();
    expect(h.reports.countsFor('a')).toBe(h.reports.countsFor('a'));
  });

  it('finish sends the last delta at once and stops the timer with the last backend', () => {
    const h = harness();
    h.reports.countsFor('a').relayed(TO_BACKEND.shell, 1);
    expect(h.running()).toBe(true);
    h.reports.finish('a');
    expect(messages(h.sent)).toEqual([['a', 1]]);
    expect(h.running()).toBe(false);
  });

  it('a delta that could not be sent goes with the next report', () => {
    const h = harness();
    const a = h.reports.countsFor('a');
    a.relayed(TO_BACKEND.shell, 1);
    h.connect(false);
    h.tick();
    a.relayed(TO_BACKEND.shell, 1);
    h.connect(true);
    h.tick();
    expect(messages(h.sent)).toEqual([['a', 2]]);
  });
});
