/** The import literals each language gets for a JSON value, and the names each refuses. */
import { describe, expect, it } from 'vitest';
import { javascript } from '../../../../src/router/values/javascript.js';
import { parseJsonValue } from '../../../../src/router/values/json-value.js';
import { ValueCrossingError, type ValueConverter } from '../../../../src/router/values/language.js';
import { lua } from '../../../../src/router/values/lua.js';
import { python } from '../../../../src/router/values/python.js';

const literal = (converter: ValueConverter, json: string): string => converter.importCode([['x', parseJsonValue(json)]]).trim();

describe('import literals', () => {
  it.each<[string, string, string, string, string]>([
    // name, JSON, Python, JavaScript, Lua
    ['null', 'null', 'x = None', 'let x = null;', 'x = nil'],
    ['booleans', '[true,false]', 'x = [True, False]', 'let x = [true, false];', 'x = {true, false}'],
    ['ints', '[0,-7,9007199254740993]', 'x = [0, -7, 9007199254740993]', 'let x = [0, -7, 9007199254740993n];', 'x = {0, -7, 9007199254740993}'],
    ['lowest int64', '-9223372036854775808', 'x = -9223372036854775808', 'let x = -9223372036854775808n;', 'x = math.mininteger'],
    ['floats keep their text', '[2.0,-0.0,1.5e-7]', 'x = [2.0, -0.0, 1.5e-7]', 'let x = [2.0, -0.0, 1.5e-7];', 'x = {2.0, -0.0, 1.5e-7}'],
    ['quotes, backslash, newline', '"a\\"b\\\\c\\nd"', 'x = "a\\"b\\\\c\\nd"', 'let x = "a\\"b\\\\c\\nd";', 'x = "a\\"b\\\\c\\nd"'],
    ['control characters', '"\\u0000\\u001f\\u007f"', 'x = "\\x00\\x1f\\x7f"', 'let x = "\\u0000\\u001f\u007f";', 'x = "\\x00\\x1f\\x7f"'],
    ['unicode, ASCII-only in Python and Lua', '"é😀"', 'x = "\\u00e9\\U0001f600"', 'let x = "é😀";', 'x = "\\u{e9}\\u{1f600}"'],
    ['a map keeps its order', '{"b":1,"a":"z"}', 'x = {"b": 1, "a": "z"}', 'let x = Object({"b": 1, "a": "z"});', 'x = {["b"] = 1, ["a"] = "z"}'],
    ['__proto__ as a key', '{"__proto__":1}', 'x = {"__proto__": 1}', 'let x = Object({["__proto__"]: 1});', 'x = {["__proto__"] = 1}'],
    ['empty list and map (both {} in Lua)', '[[],{}]', 'x = [[], {}]', 'let x = [[], {}];', 'x = {{}, {}}'],
    ['null in a map: Lua drops the key', '{"a":null,"b":1}', 'x = {"a": None, "b": 1}', 'let x = Object({"a": null, "b": 1});', 'x = {["b"] = 1}'],
    ['nested', '{"k":[{"n":[1,[2]]}]}', 'x = {"k": [{"n": [1, [2]]}]}', 'let x = Object({"k": [{"n": [1, [2]]}]});', 'x = {["k"] = {{["n"] = {1, {2}}}}}'],
  ])('%s', (_name, json, py, js, lu) => {
    expect([literal(python, json), literal(javascript, json), literal(lua, json)]).toEqual([py, js, lu]);
  });

  it('assigns several names, one per line', () => {
    const values = [['a', parseJsonValue('1')], ['b', parseJsonValue('"s"')]] as const;
    expect(python.importCode(values)).toBe('a = 1\nb = "s"\n');
    expect(javascript.importCode(values)).toBe('let a = 1;\nlet b = "s";\n');
    expect(lua.importCode(values)).toBe('a = 1\nb = "s"\n');
  });

  const deep = '['.repeat(102) + ']'.repeat(102);
  it.each<[string, ValueConverter, string, string, RegExp]>([
    ['null inside a Lua list', lua, '[1,null]', 'x[2]', /cannot hold/],
    ['an int beyond 64 bits in Lua', lua, '{"a":[18446744073709551616]}', 'x["a"][1]', /does not fit a Lua integer/],
    ['a float beyond the range of doubles', python, '1e400', 'x', /too large for a Python float/],
    ['the same in JavaScript', javascript, '[1e400]', 'x[0]', /too large for a JavaScript number/],
    ['the same in Lua', lua, '1e400', 'x', /too large for a Lua float/],
    ['nesting too deep (Python)', python, deep, `x${'[0]'.repeat(101)}`, /nested deeper than 100/],
    ['nesting too deep (Lua)', lua, deep, `x${'[1]'.repeat(101)}`, /nested deeper than 100/],
  ])('refuses %s, naming where', (_name, converter, json, path, reason) => {
    let error: unknown;
    try {
      literal(converter, json);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValueCrossingError);
    expect((error as ValueCrossingError).path).toBe(path);
    expect((error as ValueCrossingError).reason).toMatch(reason);
  });

  it.each<[string, ValueConverter, string, RegExp | undefined]>([
    ['python: a plain name', python, 'data_1', undefined],
    ['python: keyword', python, 'lambda', /reserved word in Python/],
    ['python: "$" is JavaScript only', python, 'a$', /not a Python variable name/],
    ['python: match is a soft keyword, so a name', python, 'match', undefined],
    ['javascript: $', javascript, '$el', undefined],
    ['javascript: reserved', javascript, 'class', /reserved word in JavaScript/],
    ['javascript: undefined cannot be declared', javascript, 'undefined', /reserved word/],
    ['lua: end', lua, 'end', /reserved word in Lua/],
    ['lua: Python keywords are fine', lua, 'None', undefined],
    ['lua: starts with a digit', lua, '1x', /not a Lua variable name/],
  ])('%s', (_name, converter, name, problem) => {
    const found = converter.invalidName(name);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toMatch(problem);
  });
});
