import { describe, expect, it } from 'vitest';
import { parseJsonValue, type JsonValue } from '../../../../src/router/values/json-value.js';

const int = (text: string): JsonValue => ({ kind: 'number', text, integer: true });
const float = (text: string): JsonValue => ({ kind: 'number', text, integer: false });

describe('parseJsonValue', () => {
  it.each<[string, string, JsonValue]>([
    ['null', 'null', null],
    ['booleans in a list', '[true,false]', [true, false]],
    ['an int beyond 2^53 keeps its digits', '12345678901234567890', int('12345678901234567890')],
    ['a negative int', '-7', int('-7')],
    ['2.0 stays a float', '2.0', float('2.0')],
    ['an exponent is a float', '1e400', float('1e400')],
    ['escapes and unicode', '"a\\"b\\n\\u00e9\\ud83d\\ude00"', 'a"b\né😀'],
    ['key order is kept', '{"b":1,"a":[]}', { kind: 'object', entries: [['b', int('1')], ['a', []]] }],
    ['a repeated key keeps its first place and last value', '{"a":1,"b":2,"a":3}', { kind: 'object', entries: [['a', int('3')], ['b', int('2')]] }],
    ['__proto__ is an ordinary key', '{"__proto__":null}', { kind: 'object', entries: [['__proto__', null]] }],
    ['white space', ' [ {} , [ ] ] ', [{ kind: 'object', entries: [] }, []]],
  ])('%s', (_name, text, expected) => {
    expect(parseJsonValue(text)).toEqual(expected);
  });

  it.each([
    ['trailing comma', '[1,]'],
    ['NaN is not JSON', 'NaN'],
    ['leading zero', '01'],
    ['text after the value', '1 2'],
    ['a raw newline in a string', '"a\nb"'],
    ['unquoted key', '{a:1}'],
    ['empty', ''],
  ])('refuses %s', (_name, text) => {
    expect(() => parseJsonValue(text)).toThrow(SyntaxError);
  });
});
