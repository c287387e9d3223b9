/**
 * The snippets run for real: JavaScript in this Node (with tslab's `__tslab__.exports`) and Lua
 * in Lua 5.4 (wasmoon, through the llmspell double's session, whose print is llmspell's). Values
 * go JS -> Lua -> JS and Lua -> JS -> Lua; Python's side runs in the e2e test.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLuaSession, type LuaSession } from '../../../fixtures/llmspell-double-lua.mjs';
import { javascript } from '../../../../src/router/values/javascript.js';
import { exportMarker, readExport, type ExportedValue } from '../../../../src/router/values/language.js';
import { lua } from '../../../../src/router/values/lua.js';

const marker = exportMarker('test-1');

interface TslabGlobal { __tslab__?: { exports: Record<string, unknown> } }

/** Runs the JS export as tslab would (a statement in the global realm) and reads its output. */
function exportFromJs(scope: Record<string, unknown>, names: string[]): ExportedValue[] {
  const printed: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void printed.push(args.join(' ')));
  (globalThis as TslabGlobal).__tslab__ = { exports: scope };
  try {
    (0, eval)(javascript.exportCode(names, marker));
  } finally {
    spy.mockRestore();
  }
  return readExport(printed.join('\n'), marker);
}

/** Evaluates the JS import's literals: what `let x = ...` would hold. */
function importToJs(exported: ExportedValue[]): Record<string, unknown> {
  const values = exported.map((e) => ('value' in e ? ([e.name, e.value] as const) : expect.fail(`${e.name}: ${e.error}`)));
  const code = javascript.importCode(values);
  return new Function(`${code}return {${values.map(([n]) => n).join(', ')}};`)() as Record<string, unknown>;
}

let session: LuaSession;
let stdout: string[] = [];
beforeAll(async () => {
  session = await createLuaSession({ onOutput: (_cell, text) => void stdout.push(text) });
});
afterEach(() => {
  delete (globalThis as TslabGlobal).__tslab__;
});

function runLua(code: string): string {
  stdout = [];
  const result = session.run(code);
  if (!result.ok) expect.fail(`lua failed: ${result.error}\n${code}`);
  return stdout.join('');
}

const exportFromLua = (names: string[]): ExportedValue[] => readExport(runLua(lua.exportCode(names, marker)), marker);

function importToLua(exported: ExportedValue[]): void {
  runLua(lua.importCode(exported.map((e) => ('value' in e ? ([e.name, e.value] as const) : expect.fail(`${e.name}: ${e.error}`)))));
}

describe('JavaScript -> Lua -> JavaScript', () => {
  it.each<[string, unknown, unknown?]>([
    ['a nested value', { name: 'fleet', n: [1, 2.5, -3], ok: true, inner: { deep: [['x']], none: 'z' } }],
    ['unicode, quotes, newlines', 'é "q" \\ \n\t 😀 \u0001'],
    ['big integers as BigInt', 2n ** 62n],
    ['numbers at the edges', [Number.MAX_SAFE_INTEGER, -1e-300, 1.7976931348623157e308, 2 ** 60, 0.1]],
    ['an empty map comes back as an empty list (Lua cannot tell them apart)', { a: {} }, { a: [] }],
    ['null in a map is dropped by Lua', { a: null, b: 1 }, { b: 1 }],
    ['-0 survives as a float', -0],
    ['keys Lua sorts', { b: 1, a: 2, 'with space': 3 }, { a: 2, b: 1, 'with space': 3 }],
  ])('%s', (_name, value, expected = value) => {
    importToLua(exportFromJs({ v: value }, ['v']));
    const back = importToJs(exportFromLua(['v']));
    expect(back.v).toStrictEqual(expected);
    if (_name.startsWith('keys')) expect(Object.keys(back.v as object)).toEqual(Object.keys(expected as object));
  });
});

describe('Lua -> JavaScript -> Lua', () => {
  it.each<[string, string, string]>([
    // name, Lua that sets v, Lua expression that must be true of v after the trip
    ['a nested table', 'v = {name = "fleet", list = {1, 2.5, {true}}, map = {k = "w"}}', 'v.name == "fleet" and v.list[2] == 2.5 and v.list[3][1] == true and v.map.k == "w"'],
    // JavaScript has one number type: 3.0 comes back as the integer 3; math.maxinteger as a BigInt stays exact.
    ['ints stay ints, a fraction stays a float', 'v = {3, 3.0, math.maxinteger, 2.5}', 'math.type(v[1]) == "integer" and v[2] == 3 and v[3] == math.maxinteger and math.type(v[4]) == "float"'],
    ['shortest float text', 'v = 0.1', 'v == 0.1'],
    ['bytes of UTF-8 and escapes', 'v = "é\\n\\"\\0x"', 'v == "é\\n\\"\\0x"'],
    ['an empty table', 'v = {}', 'next(v) == nil'],
  ])('%s', (_name, setup, check) => {
    runLua(setup);
    const viaJs = importToJs(exportFromLua(['v']));
    runLua('v = nil');
    importToLua(exportFromJs(viaJs, ['v']));
    expect(runLua(`print(tostring(${check}))`)).toBe('true\n');
  });
});

describe('values that cannot cross name themselves', () => {
  it.each<[string, string, RegExp]>([
    ['undefined', 'nope', /^nope is not defined/],
    ['a function', 'v = function() end', /^v is a function, which has no JSON form/],
    ['mixed keys', 'v = {1, 2, k = 3}', /^v mixes list items/],
    ['a sparse list', 'v = {[1] = 1, [3] = 3}', /^v has integer keys other than 1..2/],
    ['a float key', 'v = {[1.5] = 1}', /^v has the key 1.5/],
    ['a cycle', 'v = {}; v.self = v', /^v\["self"\] contains itself/],
    ['NaN', 'v = {0/0}', /^v\[1\] is .*nan, not a finite number/],
    ['inf', 'v = {x = 1/0}', /^v\["x"\] is inf, not a finite number/],
    ['bytes that are not UTF-8', 'v = "\\xff"', /^v is a string that is not valid UTF-8/],
    ['too deep', 'v = {}; local t = v; for i = 1, 100 do t[1] = {}; t = t[1] end', /nested deeper than 100 levels/],
  ])('Lua: %s', (_name, setup, reason) => {
    const name = setup.startsWith('v') ? 'v' : setup;
    if (name === 'v') runLua(setup);
    const [result] = exportFromLua([name]);
    expect(result).toMatchObject({ name });
    expect('error' in result! && result.error).toMatch(reason);
  });

  class Point { x = 1; }
  const cyclic: Record<string, unknown> = {};
  cyclic.me = cyclic;
  it.each<[string, unknown, RegExp]>([
    ['undefined', undefined, /^v is undefined/],
    ['a function', { f: () => 1 }, /^v\["f"\] is a function/],
    ['a class instance', [new Point()], /^v\[0\] is a Point, which has no JSON form/],
    ['a Map', new Map(), /^v is a Map/],
    ['NaN', [NaN], /^v\[0\] is NaN, not a finite number/],
    ['a hole', [1, , 3], /^v has an empty slot at \[1\]/],
    ['a cycle', cyclic, /^v\["me"\] contains itself/],
  ])('JavaScript: %s', (_name, value, reason) => {
    const [result] = exportFromJs({ v: value }, ['v']);
    expect('error' in result! && result.error).toMatch(reason);
  });

  it('JavaScript: a name that is not there, next to one that is', () => {
    expect(exportFromJs({ a: 1 }, ['a', 'nope'])).toEqual([
      { name: 'a', value: { kind: 'number', text: '1', integer: true } },
      { name: 'nope', error: 'nope is not defined' },
    ]);
  });
});

describe('readExport', () => {
  it.each([
    ['no marker', 'hello\n'],
    ['no end marker', '<llmspell-fleet-values test-1>[]'],
    ['another nonce', '<llmspell-fleet-values test-2>[]</llmspell-fleet-values test-2>'],
    ['not a list', '<llmspell-fleet-values test-1>{}</llmspell-fleet-values test-1>'],
    ['an entry without a name', '<llmspell-fleet-values test-1>[{"value":1}]</llmspell-fleet-values test-1>'],
  ])('refuses %s', (_name, text) => {
    expect(() => readExport(text, marker)).toThrow();
  });

  it('finds the document among other output', () => {
    expect(readExport('noise <x>\n<llmspell-fleet-values test-1>[{"name":"a","error":"e"}]</llmspell-fleet-values test-1>\nmore', marker)).toEqual([{ name: 'a', error: 'e' }]);
  });
});
