/**
 * What every value converter shares: the languages with one, the marker around an export's
 * JSON, the limits, and the error a value that cannot cross becomes. Each converter is pure
 * (code in, code out); running the snippets is transfer.ts's job.
 */
import { isJsonObject, parseJsonValue, type JsonValue } from './json-value.js';

export type ValueLanguage = 'python' | 'javascript' | 'lua';

/** Deeper values are refused: Python's and Lua's parsers stop near 200 nested brackets. */
export const MAX_DEPTH = 100;

export interface ValueConverter {
  readonly language: ValueLanguage;
  /**
   * How the router's snippets run there: silent (no execute_input, no count) where the kernel
   * still publishes stdout of a silent cell; otherwise store_history off alone.
   */
  readonly silent: boolean;
  /** Why `name` cannot be a variable of this language, or undefined when it can. */
  invalidName(name: string): string | undefined;
  /** Code that prints the named variables as one JSON document between the marker's halves. */
  exportCode(names: readonly string[], marker: ExportMarker): string;
  /** Code that assigns each value to its name; throws ValueCrossingError for what cannot cross. */
  importCode(values: readonly (readonly [string, JsonValue])[]): string;
}

/** A value (or a part of one, at `path`) the target language cannot hold. */
export class ValueCrossingError extends Error {
  override readonly name = 'ValueCrossingError';
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`${path} ${reason}`);
  }
}

/**
 * The two halves of the marker: the snippet joins them at run time, so the code (echoed as
 * execute_input by some kernels) never holds the marker itself, and the nonce keeps a user's own
 * output from ever looking like it.
 */
export interface ExportMarker {
  readonly head: string;
  readonly nonce: string;
}

export function exportMarker(nonce: string): ExportMarker {
  if (!/^[A-Za-z0-9-]+$/.test(nonce)) throw new TypeError(`marker nonce must be letters, digits and "-", not ${JSON.stringify(nonce)}`);
  return { head: 'llmspell-fleet-values', nonce };
}

/** The exact text around the JSON document on stdout. */
export function markerText(marker: ExportMarker): { begin: string; end: string } {
  return { begin: `<${marker.head} ${marker.nonce}>`, end: `</${marker.head} ${marker.nonce}>` };
}

export type ExportedValue = { name: string; value: JsonValue } | { name: string; error: string };

/**
 * The export's result, read out of everything the snippet printed. Throws when the document is
 * missing or malformed (the snippet did not run to its end).
 */
export function readExport(stdout: string, marker: ExportMarker): ExportedValue[] {
  const { begin, end } = markerText(marker);
  const start = stdout.indexOf(begin);
  const stop = start === -1 ? -1 : stdout.indexOf(end, start + begin.length);
  if (stop === -1) throw new Error('the export printed no result');
  const document = parseJsonValue(stdout.slice(start + begin.length, stop));
  if (!Array.isArray(document)) throw new Error('the export printed something other than a list');
  return document.map((item) => {
    const fields = isJsonObject(item) ? new Map(item.entries) : undefined;
    const name = fields?.get('name');
    if (typeof name !== 'string') throw new Error('the export printed an entry without a name');
    const error = fields?.get('error');
    if (typeof error === 'string') return { name, error };
    if (!fields?.has('value')) throw new Error(`the export printed no value for ${name}`);
    return { name, value: fields.get('value')! };
  });
}

/** The language a kernel speaks, from its kernel_info_reply's language_info.name. */
export function valueLanguageOf(languageInfoName: string): ValueLanguage | undefined {
  const name = languageInfoName.trim().toLowerCase();
  if (name === 'python' || name === 'python3') return 'python';
  if (name === 'javascript' || name === 'typescript') return 'javascript';
  if (name === 'lua') return 'lua';
  return undefined;
}

/** A plain identifier: what the magic accepts as a name, before each language's own rules. */
export const NAME_PATTERN = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Shared by the converters: an ASCII identifier not in `keywords`, in the words of `language`. */
export function identifierProblem(name: string, pattern: RegExp, keywords: ReadonlySet<string>, language: string): string | undefined {
  if (!pattern.test(name)) return `"${name}" is not a ${language} variable name`;
  if (keywords.has(name)) return `"${name}" is a reserved word in ${language}`;
  return undefined;
}
