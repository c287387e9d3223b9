/**
 * Values to and from Python (ipykernel). The export walks the value itself instead of trusting
 * json.dumps, which would turn int dict keys into strings and tuples into lists without a word;
 * tuples do become lists here, since no other language has them. ipykernel publishes stdout of
 * a silent cell, so the router's snippets run silent: no count, no history, no execute_input.
 */
import { isJsonNumber, isJsonObject, type JsonValue } from './json-value.js';
import { identifierProblem, MAX_DEPTH, ValueCrossingError, type ExportMarker, type ValueConverter } from './language.js';

const KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del', 'elif', 'else',
  'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal', 'not', 'or', 'pass', 'raise',
  'return', 'try', 'while', 'with', 'yield',
]);

export const python: ValueConverter = {
  language: 'python',
  silent: true,
  invalidName: (name) => identifierProblem(name, /^[A-Za-z_][A-Za-z0-9_]*$/, KEYWORDS, 'Python'),
  exportCode: (names, marker) => exportCode(names, marker),
  importCode: (values) => values.map(([name, value]) => `${name} = ${pythonLiteral(value, name, 0)}`).join('\n') + '\n',
};

/** A Python literal for `value`, ASCII only (non-ASCII as \u escapes), so no source encoding matters. */
export function pythonLiteral(value: JsonValue, path: string, depth: number): string {
  if (depth > MAX_DEPTH) throw new ValueCrossingError(path, `is nested deeper than ${MAX_DEPTH} levels`);
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return pythonString(value);
  if (Array.isArray(value)) return `[${value.map((v, i) => pythonLiteral(v, `${path}[${i}]`, depth + 1)).join(', ')}]`;
  if (isJsonNumber(value)) {
    if (!value.integer && !Number.isFinite(Number(value.text))) throw new ValueCrossingError(path, `(${value.text}) is too large for a Python float`);
    return value.text;
  }
  if (isJsonObject(value)) {
    return `{${value.entries.map(([k, v]) => `${pythonString(k)}: ${pythonLiteral(v, `${path}[${JSON.stringify(k)}]`, depth + 1)}`).join(', ')}}`;
  }
  throw new ValueCrossingError(path, 'has no Python form');
}

export function pythonString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x7f) out += ch;
    else if (cp <= 0xffff) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + '"';
}

/**
 * One function, run and deleted in the same cell, so the user's namespace keeps nothing of it.
 * Each name's problem is caught and reported by name; the others still go out.
 */
function exportCode(names: readonly string[], marker: ExportMarker): string {
  return `def __llmspell_fleet_export():
    import json, math
    def enc(v, path, depth, seen):
        if v is None or isinstance(v, bool):
            return json.dumps(v)
        if isinstance(v, int):
            return int.__repr__(v)
        if isinstance(v, float):
            if not math.isfinite(v):
                raise ValueError(path + " is " + repr(v) + ", not a finite number")
            return float.__repr__(v)
        if isinstance(v, str):
            return json.dumps(v)
        if not isinstance(v, (list, tuple, dict)):
            raise ValueError(path + " is a " + type(v).__name__ + ", which has no JSON form")
        if id(v) in seen:
            raise ValueError(path + " contains itself (a cycle)")
        if depth >= ${MAX_DEPTH}:
            raise ValueError(path + " is nested deeper than ${MAX_DEPTH} levels")
        seen.add(id(v))
        if isinstance(v, dict):
            parts = []
            for k, x in v.items():
                if not isinstance(k, str):
                    raise ValueError(path + " has a key " + repr(k) + " that is not a string")
                parts.append(json.dumps(k) + ":" + enc(x, path + "[" + json.dumps(k) + "]", depth + 1, seen))
            text = "{" + ",".join(parts) + "}"
        else:
            text = "[" + ",".join(enc(x, path + "[" + str(i) + "]", depth + 1, seen) for i, x in enumerate(v)) + "]"
        seen.discard(id(v))
        return text
    scope = globals()
    out = []
    for name in ${JSON.stringify(names)}:
        if name not in scope:
            out.append(json.dumps({"name": name, "error": name + " is not defined"}))
            continue
        try:
            out.append('{"name":' + json.dumps(name) + ',"value":' + enc(scope[name], name, 0, set()) + "}")
        except Exception as e:
            out.append(json.dumps({"name": name, "error": str(e)}))
    head = ${JSON.stringify(marker.head)} + " " + ${JSON.stringify(marker.nonce)}
    print("<" + head + ">[" + ",".join(out) + "]</" + head + ">", flush=True)
try:
    __llmspell_fleet_export()
finally:
    del __llmspell_fleet_export
`;
}
