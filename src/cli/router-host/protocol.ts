/**
 * The kernel stub <-> router host protocol (README "Shared router host"): newline-delimited
 * JSON, one object per line. The stub's first line hands over its kernel process (pid, cwd,
 * argv, environment); later lines pass on the signals it gets. The host answers with
 * fallback | stderr | listening | exit lines. Unknown fields are ignored both ways, so either
 * side can grow. Parsing is pure; the connection (stub-connection.ts) does the I/O.
 */
import * as v from 'valibot';
import { check, isTable } from '../../shared/schema.js';
import { ROUTER_SIGNALS, type RouterSignal } from '../router-signals.js';

/** A hello holds the stub's whole environment; a line longer than this is not one. */
export const MAX_STUB_LINE_BYTES = 1024 * 1024;

export const PROTOCOL_VERSION = 1;

const pid = v.pipe(v.number('must be a number'), v.safeInteger('must be a whole number'), v.minValue(1, 'must be a pid (>= 1)'));

// Never `got(...)` here: the environment holds API keys, and a message must not echo them.
const HelloSchema = v.object({
  v: v.number('must be a number'),
  pid,
  ppid: v.pipe(v.number('must be a number'), v.safeInteger('must be a whole number'), v.minValue(0, 'must be >= 0')),
  cwd: v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty')),
  argv: v.pipe(v.array(v.string('must be a string'), 'must be an array of strings'), v.minLength(2, 'must hold node and the entry script at least')),
  // valibot's record would take an array (index keys) for an object.
  env: v.pipe(v.custom<Record<string, unknown>>(isTable, 'must be an object of strings'), v.record(v.string(), v.string('must be a string'), 'must be an object of strings')),
});

/** The stub's first line: its kernel process as a standalone router would have been. */
export interface StubHello {
  v: number;
  pid: number;
  ppid: number;
  cwd: string;
  /** The stub's argv from index 1: [node, entry, "router", flags...]. */
  argv: string[];
  env: Record<string, string>;
}

/** A signal the stub got and passes on: the ones a standalone router takes. */
export type StubSignal = RouterSignal;
const SIGNALS = ROUTER_SIGNALS;

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Pure: the first line, checked; the problem says which field is wrong (never its value). */
export function parseHello(line: string): Parsed<StubHello> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { ok: false, problem: 'it is not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { ok: false, problem: 'it is not a JSON object' };
  const checked = check(HelloSchema, json);
  if (!checked.ok) return { ok: false, problem: `${checked.problem.key || 'the line'} ${checked.problem.message}` };
  return { ok: true, value: checked.value };
}

/** What a later line from the stub asks for; anything else is ignored (with why, for the log). */
export type StubLine = { kind: 'signal'; signal: StubSignal } | { kind: 'ignored'; reason: string };

/** Pure: a line after the first. */
export function parseStubLine(line: string): StubLine {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { kind: 'ignored', reason: 'not JSON' };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return { kind: 'ignored', reason: 'not a JSON object' };
  const signal = (json as { signal?: unknown }).signal;
  if (signal === undefined) return { kind: 'ignored', reason: 'no field this host knows' };
  if (typeof signal === 'string' && (SIGNALS as readonly string[]).includes(signal)) return { kind: 'signal', signal: signal as StubSignal };
  return { kind: 'ignored', reason: `signal ${JSON.stringify(signal)} is not one the host passes on` };
}

/** What the host sends the stub. */
export type HostMessage = { fallback: string } | { stderr: string } | { listening: true } | { exit: number };

/** Pure: one host message as its line. */
export function frameHostMessage(message: HostMessage): string {
  return `${JSON.stringify(message)}\n`;
}
