import { describe, expect, it } from 'vitest';
import { pushSample, sparkPoints } from '../../../../../src/fleet/manager/http/sparkline.js';

describe('pushSample', () => {
  it.each([
    [[], 1, 3, [1]],
    [[1, 2], 3, 3, [1, 2, 3]],
    [[1, 2, 3], 4, 3, [2, 3, 4]],
  ])('%j + %i (max %i) -> %j', (history, value, max, out) => {
    expect(pushSample(history, value, max)).toEqual(out);
  });

  it('leaves the history it was given alone (the page keeps it between reads)', () => {
    const history = [1, 2, 3];
    pushSample(history, 4, 3);
    expect(history).toEqual([1, 2, 3]);
  });
});

describe('sparkPoints', () => {
  it.each([
    ['no readings', [], 10, 3, ''],
    ['one reading sits at the right edge', [5], 10, 3, '60,8'],
    // 0 at the bottom (height - 1), the top value at 1: one pixel of margin each side.
    ['the highest value reaches the top', [0, 20, 10], 10, 3, '0,15 30,1 60,8'],
    ['below the floor the floor is the top', [0, 5], 10, 3, '30,15 60,8'],
    ['a young backend fills only the right', [1, 1], 1, 61, '59,1 60,1'],
    ['negative readings sit on the bottom', [-3, 4], 4, 2, '0,15 60,1'],
    ['all zero and no floor stays on the bottom', [0, 0], 0, 2, '0,15 60,15'],
  ])('%s', (_, values, floor, slots, points) => {
    expect(sparkPoints(values, floor, slots, 60, 16)).toBe(points);
  });

  it('every point lies inside the box', () => {
    const values = Array.from({ length: 60 }, (_, i) => (i * 37) % 101);
    for (const point of sparkPoints(values, 10, 60, 60, 16).split(' ')) {
      const [x, y] = point.split(',').map(Number) as [number, number];
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(60);
      expect(y).toBeGreaterThanOrEqual(1);
      expect(y).toBeLessThanOrEqual(15);
    }
  });
});
