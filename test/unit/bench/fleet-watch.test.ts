import { describe, expect, it } from 'vitest';
import { cpuPercent } from '../../../bench/fleet-scale.js';
import { parseSse } from '../../../bench/fleet-watch.js';

describe('parseSse', () => {
  it.each([
    ['nothing yet', '', [], ''],
    ['a comment only', ': keepalive\n\n', [], ''],
    ['one event', 'event: spawned\ndata: {"kernelId":"a"}\n\n', [{ type: 'spawned', data: '{"kernelId":"a"}' }], ''],
    ['an event and half of the next', 'event: ready\ndata: 1\n\nevent: sto', [{ type: 'ready', data: '1' }], 'event: sto'],
    ['data without a type is a message', 'data: x\n\n', [{ type: 'message', data: 'x' }], ''],
  ])('%s', (_name, buffer, events, rest) => {
    expect(parseSse(buffer)).toEqual({ events, rest });
  });
});

describe('cpuPercent', () => {
  it.each([
    ['one core busy all the window', 10, 10_000, 100],
    ['a tenth of a second in ten', 0.1, 10_000, 1],
    ['nothing used', 0, 4000, 0],
  ])('%s', (_name, seconds, windowMs, expected) => {
    expect(cpuPercent(seconds, windowMs)).toBeCloseTo(expected, 9);
  });

  it('an empty window has no rate', () => {
    expect(cpuPercent(1, 0)).toBeNaN();
  });
});
