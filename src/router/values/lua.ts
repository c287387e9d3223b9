/**
 * Values to and from Lua 5.4 (llmspell, behind the adapter). Lua has no JSON in its standard
 * library, so the export carries a small serializer. Tables cross by their keys: 1..n is a
 * list, string keys a map, and an empty table an empty list (the more common use of `{}` in
 * Lua); map keys go out sorted, since a table has no order. nil cannot be stored in a table:
 * a null in a map drops the key (reading it gives nil either way) and a null in a list is refused.
 * The adapter withholds the output of silent cells (as the spec says), so the router's snippets
 * run with store_history off instead, which the adapter neither counts nor records.
 */
import { isJsonNumber, isJsonObject, type JsonValue } from './json-value.js';
import { identifierProblem, MAX_DEPTH, ValueCrossingError, type ExportMarker, type ValueConverter } from './language.js';

const KEYWORDS = new Set([
  'and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if', 'in', 'local', 'nil', 'not', 'or',
  'repeat', 'return', 'then', 'true', 'until', 'while',
]);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export const lua: ValueConverter = {
  language: 'lua',
  silent: false,
  invalidName: (name) => identifierProblem(name, /^[A-Za-z_][A-Za-z0-9_]*$/, KEYWORDS, 'Lua'),
  exportCode: (names, marker) => exportCode(names, marker),
  importCode: (values) => values.map(([name, value]) => `${name} = ${luaLiteral(value, name, 0)}`).join('\n') + '\n',
};

/** A Lua expression for `value`: a table constructor with ["key"] = fields, ASCII-only strings. */
export function luaLiteral(value: JsonValue, path: string, depth: number): string {
  if (depth > MAX_DEPTH) throw new ValueCrossingError(path, `is nested deeper than ${MAX_DEPTH} levels`);
  if (value === null) return 'nil';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return luaString(value);
  if (Array.isArray(value)) {
    const items = value.map((v, i) => {
      if (v === null) throw new ValueCrossingError(`${path}[${i + 1}]`, 'is null, which a Lua list cannot hold (nil ends a list)');
      return luaLiteral(v, `${path}[${i + 1}]`, depth + 1);
    });
    return `{${items.join(', ')}}`;
  }
  if (isJsonNumber(value)) return luaNumber(value.text, value.integer, path);
  if (isJsonObject(value)) {
    const fields = value.entries
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `[${luaString(k)}] = ${luaLiteral(v, `${path}[${JSON.stringify(k)}]`, depth + 1)}`);
    return `{${fields.join(', ')}}`;
  }
  throw new ValueCrossingError(path, 'has no Lua form');
}

function luaNumber(text: string, integer: boolean, path: string): string {
  if (!integer) {
    if (!Number.isFinite(Number(text))) throw new ValueCrossingError(path, `(${text}) is too large for a Lua float`);
    return text;
  }
  const n = BigInt(text);
  if (n < INT64_MIN || n > INT64_MAX) throw new ValueCrossingError(path, `(${text}) does not fit a Lua integer (64 bits)`);
  // "-9223372036854775808" would be the negation of a number too large for an integer: a float.
  return n === INT64_MIN ? 'math.mininteger' : n.toString();
}

/** A Lua string literal: UTF-8 from \u{...} escapes, so the source itself is ASCII. */
export function luaString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x7f) out += ch;
    else out += `\\u{${cp.toString(16)}}`;
  }
  return out + '"';
}

/** A `do` block: its locals end with it, so the user's globals keep nothing of the export. */
function exportCode(names: readonly string[], marker: ExportMarker): string {
  const list = names.map((n) => luaString(n)).join(', ');
  return `do
  local MAX = ${MAX_DEPTH}
  local function str(s, path)
    if not utf8.len(s) then error(path .. " is a string that is not valid UTF-8", 0) end
    return '"' .. s:gsub('[\\0-\\31"\\\\]', function(c)
      if c == '"' or c == "\\\\" then return "\\\\" .. c end
      return string.format("\\\\u%04x", c:byte())
    end) .. '"'
  end
  local function num(v, path)
    if math.type(v) == "integer" then return string.format("%d", v) end
    if v ~= v or v == math.huge or v == -math.huge then error(path .. " is " .. tostring(v) .. ", not a finite number", 0) end
    local s
    for p = 15, 17 do
      s = string.format("%." .. p .. "g", v)
      if tonumber(s) == v then break end
    end
    if not s:find("[.eE]") then s = s .. ".0" end
    return s
  end
  local enc
  enc = function(v, path, depth, seen)
    local t = type(v)
    if t == "boolean" then return tostring(v) end
    if t == "number" then return num(v, path) end
    if t == "string" then return str(v, path) end
    if t ~= "table" then error(path .. " is a " .. t .. ", which has no JSON form", 0) end
    if seen[v] then error(path .. " contains itself (a cycle)", 0) end
    if depth >= MAX then error(path .. " is nested deeper than " .. MAX .. " levels", 0) end
    seen[v] = true
    local count, strings = 0, 0
    for k in next, v do
      count = count + 1
      if type(k) == "string" then strings = strings + 1
      elseif math.type(k) ~= "integer" then
        error(path .. " has the key " .. tostring(k) .. "; only lists (keys 1..n) and string keys can cross", 0)
      end
    end
    local parts = {}
    if strings == 0 then
      for i = 1, count do
        local item = rawget(v, i)
        if item == nil then error(path .. " has integer keys other than 1.." .. count .. " (a sparse list)", 0) end
        parts[i] = enc(item, path .. "[" .. i .. "]", depth + 1, seen)
      end
      seen[v] = nil
      return "[" .. table.concat(parts, ",") .. "]"
    end
    if strings ~= count then error(path .. " mixes list items (keys 1..n) with string keys", 0) end
    local keys = {}
    for k in next, v do keys[#keys + 1] = k end
    table.sort(keys)
    for i, k in ipairs(keys) do
      local sub = path .. "[" .. string.format("%q", k) .. "]"
      parts[i] = str(k, sub) .. ":" .. enc(rawget(v, k), sub, depth + 1, seen)
    end
    seen[v] = nil
    return "{" .. table.concat(parts, ",") .. "}"
  end
  local out = {}
  for _, name in ipairs({${list}}) do
    local v = _ENV[name]
    if v == nil then
      out[#out + 1] = '{"name":' .. str(name, name) .. ',"error":' .. str(name .. " is not defined (nil)", name) .. '}'
    else
      local ok, text = pcall(enc, v, name, 0, {})
      if ok then
        out[#out + 1] = '{"name":' .. str(name, name) .. ',"value":' .. text .. '}'
      else
        out[#out + 1] = '{"name":' .. str(name, name) .. ',"error":' .. str(tostring(text), name) .. '}'
      end
    end
  end
  local head = ${luaString(marker.head)} .. " " .. ${luaString(marker.nonce)}
  print("<" .. head .. ">[" .. table.concat(out, ",") .. "]</" .. head .. ">")
end
`;
}
