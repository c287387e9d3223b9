import { describe, expect, it } from 'vitest';
import { StateReports, type ExecutionState } from '../../../src/fleet/state-reports.js';

function harness(connected = () => true) {
  const sent: [string, ExecutionState][] = [];
  let pending: (() => void) | undefined;
  const reports = new StateReports({
    send: (kernelId, state) => {
      if (!connected()) return false;
      sent.push([kernelId, state]);
      return true;
    },
    schedule: (run) => {
      pending = run;
      return () => (pending = undefined);
    },
  });
  const tick = () => {
    const run = pending;
    pending = undefined;
    run?.();
  };
  return { reports, sent, tick, scheduled: () => pending !== undefined };
}

describe('StateReports', () => {
  it.each<[string, ExecutionState[][], [string, ExecutionState][]]>([
    ['a change within a window: the latest state, once', [['busy', 'idle', 'busy']], [['k', 'busy']]],
    ['busy then idle within a window: both, so the idle clock of culling restarts', [['busy', 'idle']], [['k', 'busy'], ['k', 'idle']]],
    ['idle again and again without a busy: nothing (idle is what the manager assumes)', [['idle'], ['idle']], []],
    ['a second short busy after a reported idle: both again', [['busy'], ['idle'], ['busy', 'idle']], [['k', 'busy'], ['k', 'idle'], ['k', 'busy'], ['k', 'idle']]],
    ['one report per window', [['busy'], ['idle'], ['busy']], [['k', 'busy'], ['k', 'idle'], ['k', 'busy']]],
    ['the same state again is not sent again', [['busy'], ['busy']], [['k', 'busy']]],
  ])('%s', (_, windows, expected) => {
    const h = harness();
    for (const states of windows) {
      for (const s of states) h.reports.note('k', s);
      h.tick();
    }
    expect(h.sent).toEqual(expected);
  });

  it('schedules one flush per window, whatever the number of notes', () => {
    const h = harness();
    h.reports.note('a', 'busy');
    expect(h.scheduled()).toBe(true);
    h.reports.note('b', 'busy');
    h.tick();
    expect(h.scheduled()).toBe(false);
    expect(h.sent).toEqual([['a', 'busy'], ['b', 'busy']]);
  });

  it('not connected: not marked sent, so the next change is compared with what the manager really heard', () => {
    let up = false;
    const h = harness(() => up);
    h.reports.note('k', 'busy');
    h.tick();
    up = true;
    h.reports.note('k', 'busy');
    h.tick();
    expect(h.sent).toEqual([['k', 'busy']]);
  });

  it('resend: a new manager hears busy again for the backends last said busy', () => {
    const h = harness();
    h.reports.note('a', 'busy');
    h.reports.note('b', 'busy');
    h.tick();
    h.reports.note('b', 'idle');
    h.tick();
    h.reports.resend();
    h.tick();
    expect(h.sent).toEqual([['a', 'busy'], ['b', 'busy'], ['b', 'idle'], ['a', 'busy']]);
  });

  it('close cancels the pending flush', () => {
    const h = harness();
    h.reports.note('k', 'busy');
    h.reports.close();
    expect(h.scheduled()).toBe(false);
  });
});
