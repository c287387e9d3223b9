/**
 * Pure: one line from the manager → a response or an event, or undefined for a line that is
 * neither. A router must never crash on its manager's output (an older or newer manager, a
 * bug), so a line of the wrong shape is dropped here, not half-used later.
 */
import * as v from 'valibot';
import { isTable, type Assert, type Same } from '../../shared/schema.js';
import { ClientConnectionSchema } from '../../wire/connection-file.js';
import type { ManagerEvent, ManagerResponse } from './protocol.js';
import { BackendRecordSchema } from './registry.js';

const id = v.pipe(v.number(), v.safeInteger());

const FleetEventSchema = v.object({
  type: v.picklist(['spawned', 'ready', 'attached', 'detached', 'busy', 'idle', 'restarting', 'restarted', 'exited', 'stopped']),
  kernelId: v.string(),
  runtime: v.string(),
  provider: v.string(),
  group: v.optional(v.string()),
  time: v.number(),
  routerId: v.optional(v.string()),
  reason: v.optional(v.string()),
  exitCode: v.optional(v.nullable(v.number())),
  signal: v.optional(v.nullable(v.string())),
  cause: v.optional(v.string()),
});

const ManagerEventSchema = v.object({
  event: v.picklist(['backend-restarted', 'backend-exited', 'backend-warning', 'fleet-event']),
  kernelId: v.string(),
  handle: v.optional(v.object({ record: BackendRecordSchema, connection: ClientConnectionSchema })),
  reason: v.optional(v.string()),
  exitCode: v.optional(v.nullable(v.number())),
  signal: v.optional(v.nullable(v.string())),
  cause: v.optional(v.string()),
  stderrTail: v.optional(v.string()),
  message: v.optional(v.string()),
  fleet: v.optional(FleetEventSchema),
});
type _ManagerEventShape = Assert<Same<v.InferOutput<typeof ManagerEventSchema>, ManagerEvent>>;

const ManagerResponseSchema = v.variant('ok', [
  // `result` may be absent: JSON drops a key whose value is undefined.
  v.object({ id, ok: v.literal(true), result: v.optional(v.unknown()) }),
  v.object({
    id,
    ok: v.literal(false),
    error: v.object({ code: v.string(), message: v.string(), context: v.optional(v.record(v.string(), v.unknown())) }),
  }),
]);

export function parseManagerLine(line: string): ManagerResponse | ManagerEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (isTable(raw) && 'event' in raw) {
    const event = v.safeParse(ManagerEventSchema, raw);
    return event.success ? event.output : undefined;
  }
  const response = v.safeParse(ManagerResponseSchema, raw);
  if (!response.success) return undefined;
  return response.output.ok ? { ...response.output, result: response.output.result } : response.output;
}
