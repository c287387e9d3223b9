/**
 * `%llmspell use|status|list|get|put|replay|help`: line magics the router answers itself, whatever the
 * backend's language, so they must be recognised without asking the backend anything.
 */
import { DIRECTIVE_KEYS, firstContentLine, isRequirementName, nameRule } from './directive.js';
import { parseValuesMagic, valuesMagicWords, type ValuesMagic } from './values-magic.js';

export type FleetMagic =
  | { kind: 'use'; runtime: string; provider?: string }
  | { kind: 'status' }
  | { kind: 'list' }
  | { kind: 'replay' }
  | { kind: 'help' }
  | ValuesMagic
  | { kind: 'error'; message: string };

export const MAGIC_COMMANDS = ['use', 'status', 'list', 'get', 'put', 'replay', 'help'] as const;

const MAGIC = /^%llmspell(?=\s|$)/;
const HELP_WORDS = new Set(['help', '-h', '--help', '?']);

/**
 * Undefined when the cell is not a fleet magic, so it goes to the backend untouched. A cell
 * that starts with `%llmspell` but has more lines is answered with an error: no backend knows
 * the magic, and its own syntax error would not tell the user what to do.
 */
export function parseFleetMagic(code: string): FleetMagic | undefined {
  const text = code.trim();
  if (!MAGIC.test(text)) return undefined;
  if (text.includes('\n')) {
    return { kind: 'error', message: '%llmspell must be alone in its cell; to pick the backend for one cell, start that cell with %%llmspell runtime=R provider=P' };
  }
  const [command, ...args] = text.replace(MAGIC, '').trim().split(/\s+/).filter((w) => w.length > 0);
  if (command === undefined || HELP_WORDS.has(command)) return { kind: 'help' };
  switch (command) {
    case 'status':
    case 'list':
    case 'replay':
      return args.length === 0 ? { kind: command } : { kind: 'error', message: `%llmspell ${command} takes no arguments` };
    case 'use':
      return parseUse(args);
    case 'get':
    case 'put':
      return parseValuesMagic(command, args);
    default:
      return { kind: 'error', message: `unknown command "%llmspell ${command}"; use one of: ${MAGIC_COMMANDS.join(', ')} (%llmspell help explains them)` };
  }
}

function parseUse(args: string[]): FleetMagic {
  const [runtime, provider, ...extra] = args;
  if (runtime === undefined || extra.length > 0) {
    return { kind: 'error', message: '%llmspell use takes a runtime and an optional provider: %llmspell use RUNTIME [PROVIDER]' };
  }
  if (!isRequirementName(runtime)) return { kind: 'error', message: `%llmspell use: ${nameRule('runtime', runtime)}` };
  if (provider === undefined) return { kind: 'use', runtime };
  if (!isRequirementName(provider)) return { kind: 'error', message: `%llmspell use: ${nameRule('provider', provider)}` };
  return { kind: 'use', runtime, provider };
}

export function helpText(): string {
  return [
    'llmspell-fleet routes each cell to a backend kernel chosen by runtime and provider.',
    '',
    'Magics (a cell of its own, any runtime):',
    '  %llmspell use RUNTIME [PROVIDER]   use this backend for the rest of the session',
    '  %llmspell status                   the state of the backends this session uses (starting, ready, busy, restarting, dead), and who shares them',
    '  %llmspell list                     every backend of the fleet, with its state',
    '  %llmspell get NAME... --from RUNTIME[/PROVIDER]   copy variables from that backend into this one',
    '  %llmspell put NAME... --to RUNTIME[/PROVIDER]     copy variables from this backend into that one',
    '      (JSON-like values between Python, JavaScript and Lua: numbers, strings, booleans,',
    '      null/None/nil, lists and maps with string keys, nested; see the README for the rules)',
    '  %llmspell replay                   show again what a backend printed while no client was attached',
    '  %llmspell help                     this text',
    '',
    'One cell only: make its first line',
    '  %%llmspell runtime=RUNTIME provider=PROVIDER [group=GROUP]   (each key optional)',
    '',
    'Cell metadata (JupyterLab, VS Code):',
    '  "llmspell": {"runtime": "...", "provider": "..."}, or tags llmspell:runtime=R, llmspell:provider=P',
    'Every message (jupyter console --Session.metadata):  llmspell_runtime=R llmspell_provider=P',
    'Whole notebook: notebook metadata "llmspell": {"runtime": "...", "provider": "..."}',
    '',
    'Most specific first: cell directive, cell/message metadata, %llmspell use, kernel argv',
    '(--runtime/--provider, alias kernelspecs), notebook metadata, LLMSPELL_RUNTIME/LLMSPELL_PROVIDER',
    '(or KERNEL_LLMSPELL_*), llmspell-fleet.toml in this or a parent directory, the user fleet.toml.',
    'Runtime and provider are chosen separately.',
    '',
  ].join('\n');
}

export interface MagicCompletion {
  matches: string[];
  /** Code-point offsets, as the Jupyter protocol (5.2+) counts cursor positions. */
  cursor_start: number;
  cursor_end: number;
}

export interface KnownNames {
  runtimes: string[];
  providers: string[];
}

/**
 * Completes the words of `%llmspell` and `%%llmspell` lines. Undefined leaves the request to
 * the backend; an empty list still claims it, since no backend knows these words.
 */
export function fleetMagicCompletions(code: string, cursorPos: number, known: KnownNames): MagicCompletion | undefined {
  const cursor = indexOfCodePoint(code, cursorPos);
  if (cursor === undefined) return undefined;
  const lineStart = code.lastIndexOf('\n', cursor - 1) + 1;
  const before = code.slice(lineStart, cursor);
  const magic = /^[ \t]*%llmspell\s/.test(before);
  const directive = !magic && /^[ \t]*%%llmspell\s/.test(before) && firstContentLine(code)?.start === lineStart;
  if (!magic && !directive) return undefined;
  const words = before.replace(/^[ \t]*%%?llmspell/, '').trimStart().split(/\s+/);
  // split leaves '' last when the text ends in whitespace: that is the empty word being typed.
  const partial = words.pop() ?? '';
  const done = words.filter((w) => w.length > 0);
  const { matches, replace } = magic
    ? { matches: magicWords(done, known).filter((w) => w.startsWith(partial)), replace: partial }
    : directiveWords(done, partial, known);
  return { matches, cursor_start: cursorPos - [...replace].length, cursor_end: cursorPos };
}

function magicWords(done: string[], known: KnownNames): string[] {
  if (done.length === 0) return [...MAGIC_COMMANDS];
  if (done[0] === 'get' || done[0] === 'put') return valuesMagicWords(done, known.runtimes);
  if (done[0] !== 'use') return [];
  if (done.length === 1) return known.runtimes;
  if (done.length === 2) return known.providers;
  return [];
}

function directiveWords(done: string[], partial: string, known: KnownNames): { matches: string[]; replace: string } {
  const eq = partial.indexOf('=');
  if (eq === -1) {
    const used = new Set(done.map((w) => w.split('=')[0]));
    const keys = DIRECTIVE_KEYS.filter((k) => !used.has(k)).map((k) => `${k}=`);
    return { matches: keys.filter((k) => k.startsWith(partial)), replace: partial };
  }
  const key = partial.slice(0, eq);
  const value = partial.slice(eq + 1);
  const names = key === 'runtime' ? known.runtimes : key === 'provider' ? known.providers : [];
  return { matches: names.filter((n) => n.startsWith(value)), replace: value };
}

/** JS string index of a code-point offset; undefined when the offset is outside the string. */
function indexOfCodePoint(text: string, offset: number): number | undefined {
  if (!Number.isInteger(offset) || offset < 0) return undefined;
  let index = 0;
  for (let n = 0; n < offset; n++) {
    if (index >= text.length) return undefined;
    index += (text.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
  }
  return index;
}
