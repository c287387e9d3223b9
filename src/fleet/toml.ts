/**
 * TOML as our config files use it: parse with the syntax error's position in the message, and
 * find the line a key path was written on, so a bad VALUE is reported at its line too
 * (smol-toml gives positions only for syntax errors).
 */
import { parse, TomlError } from 'smol-toml';
import { FleetError } from '../shared/errors.js';
import { keyPath, type Table } from '../shared/schema.js';

/** Parse, or throw BAD_CONFIG `file:line:column: TOML syntax error: ...` (plus `hint`, if given). */
export function parseToml(text: string, source: string, hint = ''): Table {
  try {
    return parse(text) as Table;
  } catch (cause) {
    if (!(cause instanceof TomlError)) throw cause;
    const reason = cause.message.split('\n')[0] ?? 'syntax error';
    throw new FleetError('BAD_CONFIG', `${source}:${cause.line}:${cause.column}: TOML syntax error: ${reason}${hint}`, {
      source,
      line: cause.line,
      column: cause.column,
    }, { cause });
  }
}

/**
 * BAD_CONFIG for a bad value at `path`: `file:line: message` (or `file: message` when the key's
 * line cannot be found), with source, key and line in the context.
 */
export function configError(text: string, source: string, path: ReadonlyArray<string | number>, message: string): FleetError {
  const line = keyLine(text, path);
  const where = line === undefined ? `${source}:` : `${source}:${line}:`;
  return new FleetError('BAD_CONFIG', `${where} ${message}`, { source, key: keyPath(path), ...(line === undefined ? {} : { line }) });
}

// One key segment: bare, "basic" or 'literal'.
const SEGMENT = String.raw`(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')`;
const DOTTED = String.raw`\s*${SEGMENT}(?:\s*\.\s*${SEGMENT})*\s*`;
const HEADER = new RegExp(String.raw`^\s*\[\[?(${DOTTED})\]\]?\s*(?:#.*)?$`);
const ASSIGN = new RegExp(String.raw`^(${DOTTED})=`);
const SEGMENTS = new RegExp(SEGMENT, 'g');

function segments(dotted: string): string[] {
  return (dotted.match(SEGMENTS) ?? []).map((s) => (s.startsWith('"') ? (JSON.parse(s) as string) : s.startsWith("'") ? s.slice(1, -1) : s));
}

function isPrefix(prefix: readonly string[], of: readonly string[]): boolean {
  return prefix.length <= of.length && prefix.every((seg, i) => seg === of[i]);
}

/**
 * Pure: the 1-based line where `path` (or its nearest written ancestor: an inline table, a
 * [header]) is set, or undefined. Array indices are ignored: an element's line is its key's.
 * A heuristic over lines, good for the files people write; it never throws.
 */
export function keyLine(text: string, path: ReadonlyArray<string | number>): number | undefined {
  const want = path.filter((seg): seg is string => typeof seg === 'string');
  let table: string[] = [];
  let best: { line: number; depth: number } | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    const header = HEADER.exec(line);
    let at: string[] | undefined;
    if (header) at = table = segments(header[1] ?? '');
    else {
      const assign = ASSIGN.exec(line);
      if (assign) at = [...table, ...segments(assign[1] ?? '')];
    }
    if (at && isPrefix(at, want) && at.length > (best?.depth ?? 0)) best = { line: i + 1, depth: at.length };
  });
  return best?.line;
}
