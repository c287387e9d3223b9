/**
 * Pure: one request line → a typed ManagerRequest, or the reason it is refused. The socket is
 * private to the user, but a buggy client must get a clear BAD_REQUEST, never a crash or an
 * op run with half its fields. Each op's fields are one valibot schema; unknown fields are
 * dropped, so nothing a client adds reaches the fleet.
 */
import { isAbsolute } from 'node:path';
import * as v from 'valibot';
import { RUNNING_CELLS_MAX, RUNNING_CODE_MAX } from '../../shared/detached-output.js';
import { SAFE_NAME as NAME } from '../../shared/names.js';
import { PROVIDER_KEY_NAME } from '../../shared/provider-keys.js';
import { DROP_REASON, DROP_REASONS_MAX, EXECUTION_BUCKETS_SECONDS, RELAY_CHANNELS, RELAY_DIRECTIONS } from '../../shared/relay-counts.js';
import { check, got, isTable, type Assert, type Same } from '../../shared/schema.js';
import type { ManagerOp, ManagerRequest } from './protocol.js';

/** `field`: the request field that is wrong (key path), when one is. */
export type ParsedRequest = { ok: true; request: ManagerRequest } | { ok: false; id: number; message: string; field?: string };

const OPS = ['ping', 'acquire', 'attach', 'release', 'take-output', 'execution-state', 'relay-counts', 'restart', 'spawn', 'find', 'list', 'get', 'logs', 'usage', 'stop', 'interrupt', 'stop-all', 'cleanup', 'health', 'events', 'shutdown'] as const;
type _OpsShape = Assert<Same<(typeof OPS)[number], ManagerOp>>;

/** Log lines one request may ask for: a log tail is a look, not a download. */
export const LOG_TAIL_MAX = 10_000;

/** What each field must hold: said when it is wrong and when it is missing. */
const WANT = {
  requirement: '{runtime, provider, group?} with names of letters, digits, _ . -',
  runtime: 'a name of letters, digits, _ . -',
  provider: 'a name of letters, digits, _ . -',
  group: 'a name of letters, digits, _ . -',
  kernelId: 'a backend id (letters, digits, _ . -)',
  routerId: 'a string of 1-256 characters',
  pid: 'a positive integer',
  target: 'a backend id or one of its ports',
  cwd: 'an absolute path, when given',
  cells: `at most ${RUNNING_CELLS_MAX} running cells {msgId, code (at most ${RUNNING_CODE_MAX} characters), date?}`,
  executionState: '"busy" or "idle"',
  tail: `a whole number of lines from 0 to ${LOG_TAIL_MAX}`,
  relayed: `at most ${RELAY_CHANNELS.length * RELAY_DIRECTIONS.length} entries {channel, direction, messages, bytes}`,
  dropped: `at most ${DROP_REASONS_MAX} reasons (codes of A-Z, 0-9 and _) with counts`,
  executions: '{ok?, error?, aborted?} with counts',
  durations: `{buckets: ${EXECUTION_BUCKETS_SECONDS.length + 1} counts, sumSeconds}`,
  count: 'a whole number from 0',
} as const;

/** An op's fields (or a requirement's): unknown ones are dropped; a missing one says what it must be. */
function fields<const E extends v.ObjectEntries>(entries: E) {
  // Only a missing key reaches this message: the input is known to be an object by then.
  return v.object(entries, (issue) => `is missing: it must be ${WANT[issue.path?.[0]?.key as keyof typeof WANT] ?? 'set'}`);
}

const name = v.pipe(v.string(got(`must be ${WANT.runtime}`)), v.regex(NAME, got(`must be ${WANT.runtime}`)));
const requirement = v.pipe(
  v.custom<Record<string, unknown>>(isTable, got(`must be ${WANT.requirement}`)),
  fields({ runtime: name, provider: name, group: v.optional(name) }),
);
const kernelId = v.pipe(v.string(got(`must be ${WANT.kernelId}`)), v.regex(NAME, got(`must be ${WANT.kernelId}`)));
const text = (want: string) => v.pipe(v.string(got(`must be ${want}`)), v.minLength(1, got(`must be ${want}`)), v.maxLength(256, got(`must be ${want}`)));
const routerId = text(WANT.routerId);
const pid = v.pipe(v.number(got(`must be ${WANT.pid}`)), v.safeInteger(got(`must be ${WANT.pid}`)), v.minValue(1, got(`must be ${WANT.pid}`)));
const cwd = v.optional(v.pipe(v.string(got(`must be ${WANT.cwd}`)), v.check(isAbsolute, got(`must be ${WANT.cwd}`))));
const id = v.pipe(v.number(), v.safeInteger());
const cell = v.object(
  { msgId: text(WANT.cells), code: v.pipe(v.string(), v.maxLength(RUNNING_CODE_MAX)), date: v.optional(v.pipe(v.string(), v.maxLength(64))) },
  got(`must be ${WANT.cells}`),
);
const cells = v.optional(v.pipe(v.array(cell, got(`must be ${WANT.cells}`)), v.maxLength(RUNNING_CELLS_MAX, got(`must be ${WANT.cells}`))));
/** Provider credentials from the requester's environment (src/shared/provider-keys.ts); values are never echoed. */
const keys = v.optional(v.record(v.pipe(v.string(), v.regex(PROVIDER_KEY_NAME, 'is not a provider key variable')), v.string('must be a string')));

const tail = v.optional(v.pipe(v.number(got(`must be ${WANT.tail}`)), v.safeInteger(got(`must be ${WANT.tail}`)), v.minValue(0, got(`must be ${WANT.tail}`)), v.maxValue(LOG_TAIL_MAX, got(`must be ${WANT.tail}`))));

const count = v.pipe(v.number(got(`must be ${WANT.count}`)), v.safeInteger(got(`must be ${WANT.count}`)), v.minValue(0, got(`must be ${WANT.count}`)));
const relayed = v.optional(
  v.pipe(
    v.array(v.object({ channel: v.picklist(RELAY_CHANNELS, got(`must be ${RELAY_CHANNELS.join(', ')} (hb is never relayed)`)), direction: v.picklist(RELAY_DIRECTIONS, got(`must be ${RELAY_DIRECTIONS.join(' or ')}`)), messages: count, bytes: count }), got(`must be ${WANT.relayed}`)),
    v.maxLength(RELAY_CHANNELS.length * RELAY_DIRECTIONS.length, got(`must be ${WANT.relayed}`)),
  ),
);
const dropped = v.optional(
  v.pipe(
    v.record(v.pipe(v.string(), v.regex(DROP_REASON, got(`must be ${WANT.dropped}`))), count, got(`must be ${WANT.dropped}`)),
    v.check((reasons) => Object.keys(reasons).length <= DROP_REASONS_MAX, got(`must be ${WANT.dropped}`)),
  ),
);
const executions = v.optional(v.object({ ok: v.optional(count), error: v.optional(count), aborted: v.optional(count) }, got(`must be ${WANT.executions}`)));
const durations = v.optional(
  v.object(
    {
      buckets: v.pipe(v.array(count, got(`must be ${WANT.durations}`)), v.length(EXECUTION_BUCKETS_SECONDS.length + 1, got(`must be ${WANT.durations}`))),
      sumSeconds: v.pipe(v.number(got(`must be ${WANT.durations}`)), v.finite(got(`must be ${WANT.durations}`)), v.minValue(0, got(`must be ${WANT.durations}`))),
    },
    got(`must be ${WANT.durations}`),
  ),
);

const RequestSchema = v.variant('op', [
  fields({ id, op: v.picklist(['ping', 'list', 'stop-all', 'cleanup', 'health', 'events', 'shutdown']) }),
  fields({ id, op: v.literal('acquire'), requirement, routerId, pid, cwd, keys }),
  fields({ id, op: v.picklist(['spawn', 'find']), requirement, cwd, keys }),
  fields({ id, op: v.literal('attach'), kernelId, routerId, pid }),
  fields({ id, op: v.literal('release'), kernelId, routerId, cells }),
  fields({ id, op: v.literal('take-output'), kernelId, routerId }),
  fields({ id, op: v.literal('execution-state'), kernelId, routerId, executionState: v.picklist(['busy', 'idle'], got(`must be ${WANT.executionState}`)) }),
  fields({ id, op: v.literal('relay-counts'), kernelId, routerId, relayed, dropped, executions, durations }),
  fields({ id, op: v.literal('restart'), kernelId, routerId, keys }),
  fields({ id, op: v.picklist(['stop', 'interrupt']), target: text(WANT.target) }),
  fields({ id, op: v.picklist(['get', 'usage']), kernelId }),
  fields({ id, op: v.literal('logs'), kernelId, tail }),
]);
type _RequestShape = Assert<Same<v.InferOutput<typeof RequestSchema>, ManagerRequest>>;

export function parseRequest(line: string): ParsedRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, id: -1, message: 'request is not valid JSON' };
  }
  return parseRequestValue(raw);
}

/** The same checks for a request already decoded (the HTTP API builds one per route). */
export function parseRequestValue(raw: unknown): ParsedRequest {
  if (!isTable(raw)) return { ok: false, id: -1, message: 'request must be a JSON object' };
  if (!v.is(id, raw.id)) return { ok: false, id: -1, message: 'request needs an integer "id"' };
  const op = raw.op;
  if (!(OPS as readonly unknown[]).includes(op)) return { ok: false, id: raw.id, message: `unknown op ${JSON.stringify(op)}; known: ${OPS.join(', ')}` };
  const checked = check(RequestSchema, raw);
  if (!checked.ok) return { ok: false, id: raw.id, message: `op "${String(op)}": ${checked.problem.key} ${checked.problem.message}`, field: checked.problem.key };
  return { ok: true, request: checked.value };
}
