/**
 * What every reader of outside data shares: the first valibot issue turned into OUR words.
 * Each format (fleet.toml, connection files, kernel.json, the manager protocol, the registry)
 * is one valibot schema beside the code that owns it; its messages say what is allowed, and
 * this module adds where: the key path as the user writes it (`runtimes.lua.argv[1]`).
 */
import * as v from 'valibot';

export type Table = Record<string, unknown>;
type Message = v.ErrorMessage<v.BaseIssue<unknown>>;

/** The first thing wrong with an input, ready to be put into an error. */
export interface SchemaProblem {
  /** Key path, e.g. `runtimes.lua.argv[1]`; empty for the input as a whole. */
  key: string;
  /** The same path as segments, for finding the key's line in the source text. */
  path: Array<string | number>;
  /** What is wrong and what is allowed, e.g. `must be a number > 0 (got 0)`. */
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: SchemaProblem };

/** Validate `input`; on failure, the first issue (valibot stops there) as a SchemaProblem. */
export function check<S extends v.GenericSchema>(schema: S, input: unknown): Checked<v.InferOutput<S>> {
  const result = v.safeParse(schema, input, { abortEarly: true });
  if (result.success) return { ok: true, value: result.output };
  const issue = result.issues[0];
  const path = (issue.path ?? []).map((item) => (typeof item.key === 'number' ? item.key : String(item.key)));
  return { ok: false, problem: { key: keyPath(path), path, message: issue.message } };
}

/** `['runtimes', 'lua', 'argv', 1]` -> `runtimes.lua.argv[1]`. */
export function keyPath(path: ReadonlyArray<string | number>): string {
  return path.reduce<string>((out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out ? `${out}.${seg}` : seg), '');
}

/** A value as an error message may show it: scalars as JSON, containers by their kind. */
export function describeValue(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value instanceof Date) return 'a date';
  if (typeof value === 'object' && value !== null) return 'a table';
  // A runaway value would drown the message (and the log line that carries it).
  if (typeof value === 'string' && value.length > MAX_SHOWN) return `${JSON.stringify(value.slice(0, MAX_SHOWN))}... (${value.length} characters)`;
  return JSON.stringify(value) ?? String(value);
}
const MAX_SHOWN = 60;

/** A message that says what is allowed and echoes what was found. Never use it where values are secret. */
export function got(what: string): Message {
  return (issue) => `${what} (got ${describeValue(issue.input)})`;
}

/** A copy without the keys whose value is undefined (e.g. a lenient field that did not fit). */
export function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, x]) => x !== undefined)) as T;
}

/** A plain object: not an array, not a TOML date, not null. */
export function isTable(value: unknown): value is Table {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/**
 * A table (or JSON object) with exactly these keys. valibot's objects would take an array or a
 * date for a table; this refuses them with `what`, and names the allowed keys when one is unknown.
 */
export function table<const E extends v.ObjectEntries>(entries: E, what: string) {
  const allowed = Object.keys(entries).join(', ');
  return v.pipe(
    v.custom<Table>(isTable, got(what)),
    v.strictObject(entries, (issue) => (issue.expected === 'never' ? `is not a known key; allowed here: ${allowed}` : 'is missing')),
  );
}

/** A string from a fixed set; the message lists the set. */
export function oneOf<const T extends readonly string[]>(allowed: T) {
  return v.picklist(allowed, got(`must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`));
}

/**
 * Compile-time proof that a schema's output is exactly a declared interface (same keys, each
 * assignable both ways), so the interface stays the one documented shape and cannot drift:
 * `type _ = Assert<Same<v.InferOutput<typeof S>, Declared>>`.
 */
export type Same<A, B> = [A] extends [B]
  ? [B] extends [A]
    ? [Exclude<keyof A, keyof B> | Exclude<keyof B, keyof A>] extends [never]
      ? true
      : false
    : false
  : false;
export type Assert<T extends true> = T;
