/**
 * The per-cell directive: a cell whose first line is `%%llmspell runtime=R provider=P group=G`
 * runs on that backend, for that cell only. The router strips the line before the backend sees
 * it, since no backend knows this magic.
 */
import { SAFE_NAME as NAME } from '../../shared/names.js';

export type DirectiveKey = 'runtime' | 'provider' | 'group';
export const DIRECTIVE_KEYS: readonly DirectiveKey[] = ['runtime', 'provider', 'group'];

export type DirectiveRequirement = Partial<Record<DirectiveKey, string>>;

/** `code` is the cell with the directive line emptied; `error` says what is wrong and how to write it. */
export type DirectiveResult = { requirement: DirectiveRequirement; code: string } | { error: string };

const DIRECTIVE = /^[ \t]*%%llmspell(?=\s|$)/;
const EXAMPLE = '%%llmspell runtime=lua provider=anthropic';

// Same rule as runtime and provider names in fleet.toml: they end up in kernel ids and file
// names, so a typo such as "lua," is caught here with a message rather than as an unknown name.
export function isRequirementName(value: string): boolean {
  return NAME.test(value);
}

export function nameRule(what: string, value: string): string {
  return `${what} "${value}" is not a valid name: use letters, digits, "_", "-", "." and start with a letter or digit`;
}

export interface DirectiveLine {
  /** Offset of the line's first character in the cell. */
  start: number;
  /** Offset just past the line's last character, before any "\r\n" or "\n". */
  end: number;
  text: string;
}

/**
 * The cell's first non-blank line. Leading blank lines are allowed because front ends and
 * copy-paste leave them, and IPython itself drops them before looking for a cell magic.
 */
export function firstContentLine(code: string): DirectiveLine | undefined {
  let start = 0;
  for (;;) {
    const newline = code.indexOf('\n', start);
    const stop = newline === -1 ? code.length : newline;
    const end = stop > start && code[stop - 1] === '\r' ? stop - 1 : stop;
    const text = code.slice(start, end);
    if (text.trim() !== '') return { start, end, text };
    if (newline === -1) return undefined;
    start = newline + 1;
  }
}

export function isDirectiveLine(text: string): boolean {
  return DIRECTIVE.test(text);
}

function unquote(value: string): string {
  const q = value[0];
  return value.length >= 2 && (q === '"' || q === "'") && value.endsWith(q) ? value.slice(1, -1) : value;
}

function parsePairs(args: string): { requirement: DirectiveRequirement } | { error: string } {
  const tokens = args.split(/\s+/).filter((t) => t.length > 0);
  if (tokens.length === 0) {
    return { error: `%%llmspell names no backend; give runtime=NAME and/or provider=NAME, e.g. ${EXAMPLE}` };
  }
  const requirement: DirectiveRequirement = {};
  for (const token of tokens) {
    const eq = token.indexOf('=');
    if (eq === -1) {
      return { error: `%%llmspell expects key=value pairs, got "${token}"; write e.g. runtime=${token} (keys: ${DIRECTIVE_KEYS.join(', ')})` };
    }
    const key = token.slice(0, eq);
    const value = unquote(token.slice(eq + 1));
    if (!(DIRECTIVE_KEYS as readonly string[]).includes(key)) {
      return { error: `%%llmspell has an unknown key "${key}"; allowed keys: ${DIRECTIVE_KEYS.join(', ')} (e.g. ${EXAMPLE})` };
    }
    const k = key as DirectiveKey;
    if (requirement[k] !== undefined) return { error: `%%llmspell gives ${k} twice; give each key once` };
    if (!isRequirementName(value)) return { error: `%%llmspell: ${nameRule(k, value)}` };
    requirement[k] = value;
  }
  return { requirement };
}

/**
 * Read the directive off a cell. Undefined when the cell has none (its first non-blank line is
 * not `%%llmspell`). The directive line is replaced by an empty line rather than removed, so the
 * line numbers in the backend's tracebacks still match what the user sees in the cell.
 */
export function parseCellDirective(code: string): DirectiveResult | undefined {
  const line = firstContentLine(code);
  if (!line || !isDirectiveLine(line.text)) return undefined;
  const args = line.text.replace(DIRECTIVE, '');
  const parsed = parsePairs(args);
  if ('error' in parsed) return parsed;
  return { requirement: parsed.requirement, code: code.slice(0, line.start) + code.slice(line.end) };
}
