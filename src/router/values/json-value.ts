/**
 * The JSON document an export snippet prints, parsed so that nothing is lost on the way to the
 * import literal: numbers keep their text (a Python int beyond 2^53 stays exact, 2.0 stays a
 * float) and objects keep their key order. JSON.parse would round both away.
 */

export interface JsonNumber {
  readonly kind: 'number';
  /** The number as the source wrote it (JSON syntax). */
  readonly text: string;
  /** No fraction and no exponent: an int in Python and Lua, a BigInt in JS beyond 2^53. */
  readonly integer: boolean;
}

export interface JsonObject {
  readonly kind: 'object';
  /** In source order; a repeated key keeps its first place and its last value. */
  readonly entries: readonly (readonly [string, JsonValue])[];
}

export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;

export function isJsonNumber(value: JsonValue): value is JsonNumber {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'number';
}

export function isJsonObject(value: JsonValue): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && value.kind === 'object';
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const SPACE = /[ \t\n\r]*/y;

/** Strict JSON (RFC 8259); throws a SyntaxError naming the offset of the first problem. */
export function parseJsonValue(text: string): JsonValue {
  let at = 0;
  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at offset ${at} of the exported JSON`);
  };
  const skip = (): void => {
    SPACE.lastIndex = at;
    SPACE.exec(text);
    at = SPACE.lastIndex;
  };
  const match = (re: RegExp): string | undefined => {
    re.lastIndex = at;
    const m = re.exec(text);
    if (!m) return undefined;
    at = re.lastIndex;
    return m[0];
  };
  const value = (depth: number): JsonValue => {
    if (depth > 10_000) fail('nesting too deep');
    skip();
    const c = text[at];
    if (c === '{') {
      at++;
      const entries = new Map<string, JsonValue>();
      skip();
      if (text[at] === '}') return at++, { kind: 'object', entries: [] };
      for (;;) {
        skip();
        const key = match(STRING) ?? fail('expected a string key');
        skip();
        if (text[at++] !== ':') fail('expected ":"');
        entries.set(JSON.parse(key) as string, value(depth + 1));
        skip();
        const next = text[at++];
        if (next === '}') return { kind: 'object', entries: [...entries] };
        if (next !== ',') fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      at++;
      const items: JsonValue[] = [];
      skip();
      if (text[at] === ']') return at++, items;
      for (;;) {
        items.push(value(depth + 1));
        skip();
        const next = text[at++];
        if (next === ']') return items;
        if (next !== ',') fail('expected "," or "]"');
      }
    }
    if (c === '"') return JSON.parse(match(STRING) ?? fail('bad string')) as string;
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, at)) return (at += word.length), v;
    }
    const number = match(NUMBER) ?? fail('unexpected character');
    return { kind: 'number', text: number, integer: !/[.eE]/.test(number) };
  };
  const result = value(0);
  skip();
  if (at !== text.length) fail('unexpected text after the value');
  return result;
}
