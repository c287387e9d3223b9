/**
 * Values to and from JavaScript and TypeScript (tslab). tslab keeps a notebook's variables in
 * `__tslab__.exports`, out of reach of `eval`, so the export reads them there (and falls back
 * to globalThis for kernels that keep variables as globals). The export runs as the body of a
 * `new Function`, so tslab's TypeScript mode type-checks nothing of it. tslab ignores `silent`
 * (its own count goes up either way) and publishes console.log output as usual.
 */
import { isJsonNumber, isJsonObject, type JsonValue } from './json-value.js';
import { identifierProblem, MAX_DEPTH, ValueCrossingError, type ExportMarker, type ValueConverter } from './language.js';

const RESERVED = new Set([
  'await', 'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum', 'export',
  'extends', 'false', 'finally', 'for', 'function', 'if', 'implements', 'import', 'in', 'instanceof', 'interface', 'let', 'new',
  'null', 'package', 'private', 'protected', 'public', 'return', 'static', 'super', 'switch', 'this', 'throw', 'true', 'try',
  'typeof', 'var', 'void', 'while', 'with', 'yield', 'arguments', 'eval', 'undefined', 'NaN', 'Infinity',
]);

export const javascript: ValueConverter = {
  language: 'javascript',
  silent: true,
  invalidName: (name) => identifierProblem(name, /^[A-Za-z_$][A-Za-z0-9_$]*$/, RESERVED, 'JavaScript'),
  exportCode: (names, marker) => `new Function(${JSON.stringify(exportBody(names, marker))})();\n`,
  importCode: (values) => values.map(([name, value]) => `let ${name} = ${topLevel(value, name)};`).join('\n') + '\n',
};

/**
 * `let`, not assignment: tslab lets a cell declare a name again, and TypeScript learns its type.
 * Except for a map: tslab (2.x) forgets a variable declared with an object literal's type as
 * soon as a later cell declares anything ("Cannot find name"), so a map is declared through
 * Object(), whose type is `any`.
 */
function topLevel(value: JsonValue, name: string): string {
  const literal = javascriptLiteral(value, name, 0);
  return isJsonObject(value) ? `Object(${literal})` : literal;
}

/** A JS literal for `value`; integers beyond 2^53 become BigInt literals, so none loses digits. */
export function javascriptLiteral(value: JsonValue, path: string, depth: number): string {
  if (depth > MAX_DEPTH) throw new ValueCrossingError(path, `is nested deeper than ${MAX_DEPTH} levels`);
  if (value === null || typeof value === 'boolean') return String(value);
  // JSON.stringify escapes lone surrogates and (since ES2019) its output is a valid JS string literal.
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v, i) => javascriptLiteral(v, `${path}[${i}]`, depth + 1)).join(', ')}]`;
  if (isJsonNumber(value)) {
    if (value.integer) return Number.isSafeInteger(Number(value.text)) ? value.text : `${value.text}n`;
    if (!Number.isFinite(Number(value.text))) throw new ValueCrossingError(path, `(${value.text}) is too large for a JavaScript number`);
    return value.text;
  }
  if (isJsonObject(value)) {
    // A "__proto__" key written plainly would set the prototype; a computed key makes it a property.
    const key = (k: string): string => (k === '__proto__' ? `[${JSON.stringify(k)}]` : JSON.stringify(k));
    return `{${value.entries.map(([k, v]) => `${key(k)}: ${javascriptLiteral(v, `${path}[${JSON.stringify(k)}]`, depth + 1)}`).join(', ')}}`;
  }
  throw new ValueCrossingError(path, 'has no JavaScript form');
}

function exportBody(names: readonly string[], marker: ExportMarker): string {
  return `
const scope = typeof __tslab__ === "object" && __tslab__ !== null ? __tslab__.exports : undefined;
const own = (o, k) => o !== undefined && Object.prototype.hasOwnProperty.call(o, k);
const describe = (v) => typeof v === "object" ? (Object.getPrototypeOf(v)?.constructor?.name ?? "object") : typeof v;
const fail = (message) => { throw new Error(message); };
const enc = (v, path, depth, seen) => {
  if (v === null) return "null";
  if (typeof v === "boolean") return String(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") {
    if (!Number.isFinite(v)) fail(path + " is " + v + ", not a finite number");
    if (Object.is(v, -0)) return "-0.0";
    // Beyond 2^53 a number is only a double: it goes as a float (BigInt goes as an exact integer).
    return Number.isSafeInteger(v) || !Number.isInteger(v) ? String(v) : v.toExponential();
  }
  if (typeof v !== "object") fail(path + " is " + (v === undefined ? "undefined" : "a " + typeof v) + ", which has no JSON form");
  if (seen.has(v)) fail(path + " contains itself (a cycle)");
  if (depth >= ${MAX_DEPTH}) fail(path + " is nested deeper than ${MAX_DEPTH} levels");
  seen.add(v);
  let text;
  if (Array.isArray(v)) {
    const parts = [];
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) fail(path + " has an empty slot at [" + i + "]");
      parts.push(enc(v[i], path + "[" + i + "]", depth + 1, seen));
    }
    text = "[" + parts.join(",") + "]";
  } else {
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null) fail(path + " is a " + describe(v) + ", which has no JSON form");
    text = "{" + Object.keys(v).map((k) => JSON.stringify(k) + ":" + enc(v[k], path + "[" + JSON.stringify(k) + "]", depth + 1, seen)).join(",") + "}";
  }
  seen.delete(v);
  return text;
};
const out = ${JSON.stringify(names)}.map((name) => {
  const found = own(scope, name) ? { value: scope[name] } : name in globalThis ? { value: globalThis[name] } : undefined;
  if (found === undefined) return JSON.stringify({ name, error: name + " is not defined" });
  try {
    return '{"name":' + JSON.stringify(name) + ',"value":' + enc(found.value, name, 0, new Set()) + "}";
  } catch (e) {
    return JSON.stringify({ name, error: e instanceof Error ? e.message : String(e) });
  }
});
const head = ${JSON.stringify(marker.head)} + " " + ${JSON.stringify(marker.nonce)};
console.log("<" + head + ">[" + out.join(",") + "]</" + head + ">");
`;
}
