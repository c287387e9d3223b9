import { describe, expect, it } from 'vitest';
import { RecentSet } from '../../../src/wire/recent-set.js';

describe('RecentSet', () => {
  it.each([
    [3, ['a', 'b'], ['a', 'b'], []],
    [3, ['a', 'b', 'c'], ['a', 'b', 'c'], []],
    [3, ['a', 'b', 'c', 'd'], ['b', 'c', 'd'], ['a']],
    [3, ['a', 'b', 'c', 'd', 'e', 'f', 'g'], ['e', 'f', 'g'], ['a', 'b', 'c', 'd']],
    [0, ['a', 'b'], ['b'], ['a']],
  ])('capacity %d, after adding %j: remembers %j, forgot %j', (capacity, added, remembered, forgotten) => {
    const set = new RecentSet(capacity);
    for (const value of added) set.add(value);
    for (const value of remembered) expect(set.has(value)).toBe(true);
    for (const value of forgotten) expect(set.has(value)).toBe(false);
  });

  it('keeps working across many turns of the ring', () => {
    const set = new RecentSet(100);
    for (let i = 0; i < 10_000; i++) set.add(String(i));
    expect(set.has('9999')).toBe(true);
    expect(set.has('9900')).toBe(true);
    expect(set.has('9899')).toBe(false);
  });
});
