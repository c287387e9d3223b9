import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { check, describeValue, got, keyPath, oneOf, table } from '../../../src/shared/schema.js';

describe('keyPath', () => {
  it.each<[Array<string | number>, string]>([
    [[], ''],
    [['a'], 'a'],
    [['runtimes', 'lua', 'argv', 1], 'runtimes.lua.argv[1]'],
    [[0, 'x'], '[0].x'],
    [['a', 2, 3], 'a[2][3]'],
  ])('%j -> %s', (path, expected) => {
    expect(keyPath(path)).toBe(expected);
  });
});

describe('describeValue', () => {
  it.each<[unknown, string]>([
    ['x', '"x"'],
    [3, '3'],
    [true, 'true'],
    [null, 'null'],
    [undefined, 'undefined'],
    [Infinity, 'Infinity'],
    [Number.NaN, 'NaN'],
    [[], 'an empty array'],
    [[1], 'an array'],
    [{ a: 1 }, 'a table'],
    [new Date(0), 'a date'],
    ['y'.repeat(61), `"${'y'.repeat(60)}"... (61 characters)`],
  ])('%j -> %s', (value, expected) => {
    expect(describeValue(value)).toBe(expected);
  });
});

describe('check', () => {
  const schema = table(
    {
      name: v.string(got('must be a string')),
      mode: v.optional(oneOf(['a', 'b'])),
      list: v.optional(v.array(v.number(got('must be a number')))),
      inner: v.optional(table({ x: v.optional(v.number(got('must be a number'))) }, 'must be a table')),
    },
    'must be an object',
  );

  it('returns the output when the input fits', () => {
    expect(check(schema, { name: 'n', list: [1] })).toEqual({ ok: true, value: { name: 'n', list: [1] } });
  });

  it.each<[string, unknown, string, string]>([
    ['not an object', [1], '', 'must be an object (got an array)'],
    ['a date is not a table', { name: 'n', inner: new Date(0) }, 'inner', 'must be a table (got a date)'],
    ['a missing key', {}, 'name', 'is missing'],
    ['an unknown key', { name: 'n', nmae: 'x' }, 'nmae', 'is not a known key; allowed here: name, mode, list, inner'],
    ['a value outside the set', { name: 'n', mode: 'c' }, 'mode', 'must be one of "a", "b" (got "c")'],
    ['an array element', { name: 'n', list: [1, 'two'] }, 'list[1]', 'must be a number (got "two")'],
    ['a nested key', { name: 'n', inner: { x: 'y' } }, 'inner.x', 'must be a number (got "y")'],
  ])('%s: names the key and says what is allowed', (_name, input, key, message) => {
    expect(check(schema, input)).toMatchObject({ ok: false, problem: { key, message } });
  });
});
