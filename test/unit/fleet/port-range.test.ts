import { describe, expect, it } from 'vitest';
import {
  CANDIDATE_SPAN,
  candidateSpans,
  drawCandidates,
  parsePortRange,
  portAt,
  subtractRanges,
  type PortRange,
} from '../../../src/fleet/port-range.js';

describe('parsePortRange: the text of ip_local_port_range', () => {
  it.each<[string, string, PortRange | undefined]>([
    ['Linux default, tab and newline', '32768\t60999\n', [32768, 60999]],
    ['spaces', '  1024   65535 ', [1024, 65535]],
    ['one port', '40000 40000', [40000, 40000]],
    ['empty (unreadable)', '', undefined],
    ['one field', '32768', undefined],
    ['three fields', '1 2 3', undefined],
    ['not numbers', 'low high', undefined],
    ['negative', '-1 100', undefined],
    ['reversed', '60999 32768', undefined],
    ['above 65535', '32768 70000', undefined],
    ['zero', '0 100', undefined],
  ])('%s', (_, text, range) => {
    expect(parsePortRange(text)).toEqual(range);
  });
});

describe('subtractRanges', () => {
  it.each<[string, PortRange[], PortRange[], PortRange[]]>([
    ['nothing removed', [[10, 20]], [], [[10, 20]]],
    ['middle', [[10, 20]], [[13, 15]], [[10, 12], [16, 20]]],
    ['overlaps the low end', [[10, 20]], [[5, 12]], [[13, 20]]],
    ['overlaps the high end', [[10, 20]], [[18, 30]], [[10, 17]]],
    ['covers all', [[10, 20]], [[10, 20]], []],
    ['disjoint', [[10, 20]], [[30, 40]], [[10, 20]]],
    ['single ports at both edges', [[10, 20]], [[10, 10], [20, 20]], [[11, 19]]],
    ['several spans, sorted', [[30, 40], [10, 20]], [[15, 35]], [[10, 14], [36, 40]]],
  ])('%s', (_, spans, removed, expected) => {
    expect(subtractRanges(spans, removed)).toEqual(expected);
  });
});

describe('candidateSpans: where the OS never hands a port out, clear of known services', () => {
  it.each<[string, PortRange, PortRange[], PortRange[]]>([
    ['Linux default, no exclusions', [32768, 60999], [], [[20000, 32767], [61000, 65535]]],
    ['up to the top', [49152, 65535], [], [[20000, 49151]]],
    ['from the bottom', [20000, 40000], [], [[40001, 65535]]],
    ['below 20000 is never used', [1024, 30000], [], [[30001, 65535]]],
    ['everything', [1024, 65535], [], []],
    ['a narrowed range', [40000, 40059], [], [[20000, 39999], [40060, 65535]]],
    ['reserved ports removed', [32768, 60999], [[27017, 27019], [30000, 32767]], [[20000, 27016], [27020, 29999], [61000, 65535]]],
  ])('%s', (_, ephemeral, reserved, spans) => {
    expect(candidateSpans(ephemeral, reserved)).toEqual(spans);
  });

  it('the default exclusions keep the NodePort range and stay inside the candidate span', () => {
    const spans = candidateSpans([32768, 60999]);
    expect(spans.some(([low, high]) => low <= 30080 && 30080 <= high)).toBe(false);
    expect(spans.every(([low, high]) => low >= CANDIDATE_SPAN[0] && high <= CANDIDATE_SPAN[1])).toBe(true);
  });
});

describe('portAt: a fraction of the spans laid end to end', () => {
  const spans: PortRange[] = [[1024, 1025], [2000, 2001]];
  it.each<[number, number]>([
    [0, 1024],
    [0.25, 1025],
    [0.5, 2000],
    [0.99, 2001],
  ])('%d -> %d', (fraction, port) => {
    expect(portAt(spans, fraction)).toBe(port);
  });
  it.each([1, -0.1, Number.NaN])('fraction %d: RangeError', (fraction) => {
    expect(() => portAt(spans, fraction)).toThrow(RangeError);
  });
  it('no span: says why', () => {
    expect(() => portAt([], 0.5)).toThrow(/ip_local_port_range/);
  });
});

/** A random source that returns `values` in turn: the draws become a table. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe('drawCandidates', () => {
  const spans: PortRange[] = [[100, 109]];
  it.each<[string, number, number[], number[], number[]]>([
    ['one draw per port', 3, [0, 0.5, 0.9], [], [100, 105, 109]],
    ['a repeat is drawn again', 2, [0.5, 0.5, 0.1], [], [105, 101]],
    ['skipped ports are not returned', 2, [0, 0.1, 0.2], [100], [101, 102]],
    ['gives up after maxDraws (crowded span)', 2, [0.5], [], [105]],
  ])('%s', (_, count, draws, skip, expected) => {
    expect(drawCandidates(spans, count, sequence(...draws), new Set(skip), 10)).toEqual(expected);
  });

  it('Math.random spreads draws over the whole span', () => {
    const wide: PortRange[] = [[20000, 29999]];
    const ports = drawCandidates(wide, 200, Math.random);
    expect(new Set(ports).size).toBe(200);
    // 200 draws from 10000 ports all in one tenth: probability 1e-200, i.e. a broken spread.
    expect(new Set(ports.map((p) => Math.floor((p - 20000) / 1000))).size).toBeGreaterThan(1);
  });
});
