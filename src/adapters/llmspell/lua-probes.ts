/**
 * Completion and inspection for Lua, answered from the live kernel: the adapter runs a small,
 * side-effect-free Lua chunk in llmspell (it reads tables with `next`/`rawget`, so no metamethod
 * runs) and reads what it prints. Pure functions: building the chunk and reading its output.
 */

export const LUA_KEYWORDS: readonly string[] = [
  'and', 'break', 'do', 'else', 'elseif', 'end', 'false', 'for', 'function', 'goto', 'if', 'in',
  'local', 'nil', 'not', 'or', 'repeat', 'return', 'then', 'true', 'until', 'while',
];

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** What is being completed: `string.fo|` is path ["string"], prefix "fo". */
export interface CompletionContext {
  path: string[];
  /** `obj:me|`: methods, found through the value's metatable too. */
  method: boolean;
  prefix: string;
  cursorStart: number;
  cursorEnd: number;
}

/** Jupyter counts cursor_pos in Unicode code points; JavaScript strings index UTF-16 units. */
function codePointsToIndex(code: string, cursorPos: number): number {
  let index = 0;
  let points = 0;
  for (const ch of code) {
    if (points >= cursorPos) break;
    index += ch.length;
    points += 1;
  }
  return index;
}

function indexToCodePoints(code: string, index: number): number {
  return [...code.slice(0, index)].length;
}

export function completionContext(code: string, cursorPos: number): CompletionContext {
  const end = codePointsToIndex(code, cursorPos);
  const before = code.slice(0, end);
  const match = /(?:[A-Za-z_][A-Za-z0-9_]*\s*[.:]\s*)*[A-Za-z_]?[A-Za-z0-9_]*$/.exec(before);
  const token = match?.[0] ?? '';
  // A number like `3.1` is not a field access.
  const parts = /^\d/.test(token) ? [''] : token.split(/\s*([.:])\s*/);
  const prefix = parts[parts.length - 1] ?? '';
  const path: string[] = [];
  let method = false;
  for (let i = 0; i + 1 < parts.length; i += 2) {
    path.push(parts[i] as string);
    method = parts[i + 1] === ':';
  }
  const startIndex = end - prefix.length;
  return { path, method, prefix, cursorStart: indexToCodePoints(code, startIndex), cursorEnd: cursorPos };
}

/** Lua that resolves `path` from _G without metamethods; leaves the value in local `v`. */
function resolveChunk(path: readonly string[]): string {
  // Every element was matched as an identifier, so it is safe inside a Lua string literal.
  const names = path.map((p) => `"${p}"`).join(', ');
  return [
    'local v = _G',
    `for _, k in ipairs({${names}}) do`,
    '  if type(v) == "table" then v = rawget(v, k) else v = nil end',
    'end',
  ].join('\n');
}

/** Lua that prints one matching name per line. */
export function completionProbe(context: CompletionContext): string {
  if (!context.path.every((p) => IDENT.test(p)) || (context.prefix !== '' && !IDENT.test(context.prefix))) return '';
  return [
    'do',
    resolveChunk(context.path),
    `local prefix, seen, out = "${context.prefix}", {}, {}`,
    'local function add(t)',
    '  if type(t) ~= "table" then return end',
    '  for k in next, t do',
    '    if type(k) == "string" and not seen[k] and k:sub(1, #prefix) == prefix then seen[k] = true; out[#out + 1] = k end',
    '  end',
    'end',
    'add(v)',
    // Methods of strings and objects live in the metatable's __index table.
    `if ${context.method ? 'true' : 'type(v) ~= "table"'} and v ~= nil then`,
    '  local mt = getmetatable(v)',
    '  if type(mt) == "table" then add(rawget(mt, "__index")) end',
    'end',
    'table.sort(out)',
    'print(table.concat(out, "\\n"))',
    'end',
  ].join('\n');
}

/** complete_reply content from the probe's printed names (undefined when it could not run). */
export function completionReply(context: CompletionContext, printed: string | undefined): Record<string, unknown> {
  const names = (printed ?? '').split('\n').filter((n) => IDENT.test(n));
  const keywords = context.path.length === 0 ? LUA_KEYWORDS.filter((k) => k.startsWith(context.prefix)) : [];
  const matches = [...new Set([...names.filter((n) => n.startsWith(context.prefix)), ...keywords])].sort();
  return { status: 'ok', matches, cursor_start: context.cursorStart, cursor_end: context.cursorEnd, metadata: {} };
}

/** The dotted name under or just before the cursor, e.g. `string.format` in `string.for|mat(`. */
export function nameAt(code: string, cursorPos: number): string[] | undefined {
  const at = codePointsToIndex(code, cursorPos);
  const left = /[A-Za-z0-9_.:]*$/.exec(code.slice(0, at))?.[0] ?? '';
  const right = /^[A-Za-z0-9_]*/.exec(code.slice(at))?.[0] ?? '';
  const parts = `${left}${right}`.split(/[.:]/);
  if (parts.length === 0 || !parts.every((p) => IDENT.test(p))) return undefined;
  return parts;
}

/** Lua that prints the value's type, then a description (no metamethod runs). */
export function inspectProbe(path: readonly string[]): string {
  return [
    'do',
    resolveChunk(path),
    'local t = type(v)',
    'local d',
    'if t == "function" then',
    '  local info = debug and debug.getinfo and debug.getinfo(v, "S")',
    '  if info then d = info.what == "Lua" and ("Lua function defined at line " .. tostring(info.linedefined)) or "built-in function"',
    // llmspell's Lua has no debug library (mlua's Lua::new()); only Lua functions can be dumped.
    '  else d = pcall(string.dump, v) and "Lua function" or "built-in function" end',
    'elseif t == "table" then',
    '  local keys, n = {}, 0',
    '  for k in next, v do n = n + 1; if #keys < 30 and type(k) == "string" then keys[#keys + 1] = k end end',
    '  table.sort(keys)',
    '  d = n .. " entries: " .. table.concat(keys, ", ")',
    'elseif t == "string" then',
    '  d = string.format("%q", v)',
    'elseif t == "number" or t == "boolean" then',
    '  d = tostring(v)',
    'else',
    '  d = t',
    'end',
    'print(t)',
    'print(d)',
    'end',
  ].join('\n');
}

export function inspectReply(path: readonly string[] | undefined, printed: string | undefined): Record<string, unknown> {
  const [type, ...rest] = (printed ?? '').replace(/\n$/, '').split('\n');
  if (path === undefined || type === undefined || type === '' || type === 'nil') {
    return { status: 'ok', found: false, data: {}, metadata: {} };
  }
  const text = `${path.join('.')}: ${type}\n${rest.join('\n')}`;
  return { status: 'ok', found: true, data: { 'text/plain': text }, metadata: {} };
}

/**
 * is_complete from Lua's own parser: a chunk that fails only because the input ended
 * (`... near <eof>`, an unfinished string or comment) is incomplete; any other error is invalid.
 */
export function isCompleteVerdict(loadError: string | null | undefined): { status: 'complete' | 'incomplete' | 'invalid'; indent?: string } {
  if (loadError === null || loadError === undefined || loadError === '') return { status: 'complete' };
  if (/<eof>'?$/.test(loadError.trim())) return { status: 'incomplete', indent: '  ' };
  return { status: 'invalid' };
}
