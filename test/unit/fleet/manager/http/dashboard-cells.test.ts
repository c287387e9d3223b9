import { describe, expect, it } from 'vitest';
import { exitText, stopQuestion } from '../../../../../src/fleet/manager/http/dashboard-cells.js';

describe('exitText', () => {
  it.each([
    ['no exit (a live backend)', undefined, ''],
    ['killed by a signal', { reason: 'signalled', exitCode: null, signal: 'SIGKILL' }, 'signalled (SIGKILL)'],
    ['exited with a code', { reason: 'exited', exitCode: 3, signal: null }, 'exited (code 3)'],
    ['stopped by the fleet, no code', { reason: 'stopped', exitCode: null, signal: null }, 'stopped'],
    ['a limit says it in its own words', { reason: 'memory-limit', cause: 'killed: memory limit 512 MB reached', exitCode: null, signal: 'SIGKILL' }, 'killed: memory limit 512 MB reached'],
  ])('%s', (_name, lastExit, text) => {
    expect(exitText(lastExit)).toBe(text);
  });
});

describe('stopQuestion', () => {
  it.each([
    [0, 'Stop backend k1? Its state is lost; no notebook is attached.'],
    [1, 'Stop backend k1? Its state is lost; 1 notebook is attached and sees it exit.'],
    [3, 'Stop backend k1? Its state is lost; 3 notebooks are attached and see it exit.'],
  ])('%i clients', (clients, question) => {
    expect(stopQuestion('k1', clients)).toBe(question);
  });
});
