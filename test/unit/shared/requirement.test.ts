import { describe, expect, it } from 'vitest';
import { requirementKey } from '../../../src/shared/requirement.js';
import { isSafeName } from '../../../src/shared/names.js';

const OPENAI = { runtime: 'lua', provider: 'openai' };

describe('requirementKey', () => {
  it.each([
    [{ runtime: 'lua', provider: 'openai' }, 'lua/openai'],
    [{ runtime: 'lua', provider: 'openai', group: 'team' }, 'lua/openai#team'],
    [{ runtime: 'python', provider: 'anthropic', group: '' }, 'python/anthropic'],
  ])('%j -> %s', (req, key) => {
    expect(requirementKey(req)).toBe(key);
  });

  it.each([
    [OPENAI, { ...OPENAI }, true],
    [OPENAI, { runtime: 'lua', provider: 'anthropic' }, false],
    [OPENAI, { ...OPENAI, group: 'a' }, false],
    [{ ...OPENAI, group: 'a' }, { ...OPENAI, group: 'a' }, true],
    [{ runtime: 'a', provider: 'b-c' }, { runtime: 'a-b', provider: 'c' }, false],
    [{ runtime: 'a.b', provider: 'c' }, { runtime: 'a', provider: 'b.c' }, false],
  ])('%j vs %j shared: %s', (a, b, shared) => {
    expect(requirementKey(a) === requirementKey(b)).toBe(shared);
  });
});

describe('isSafeName', () => {
  it.each([
    ['lua', true],
    ['gpt-4.1_mini', true],
    ['9lives', true],
    ['', false],
    ['.hidden', false],
    ['-flag', false],
    ['a/b', false],
    ['a#b', false],
    ['two words', false],
  ])('%j -> %s', (name, safe) => {
    expect(isSafeName(name)).toBe(safe);
  });
});
