/**
 * What a backend printed while no router was attached to it: kept by the fleet manager, handed
 * to the next router that attaches (once), shown by that router to its client. The manager
 * speaks JSON to the router, so the shape is checked on arrival (DetachedOutputSchema), like
 * every other manager answer.
 */
import * as v from 'valibot';
import type { Assert, Same } from './schema.js';

/** The iopub messages worth showing a returning user; everything else (comms, clear_output, busy) is not kept. */
export const DETACHED_MSG_TYPES = ['stream', 'display_data', 'update_display_data', 'execute_result', 'error', 'execute_input', 'status'] as const;
export type DetachedMsgType = (typeof DETACHED_MSG_TYPES)[number];

export interface DetachedEntry {
  msgType: DetachedMsgType;
  /** When the manager received it (ms since epoch). */
  at: number;
  /** The request it belongs to: the cell's execute_request id and, when the client set it, its date (ISO 8601). */
  parent?: { msgId: string; date?: string };
  content: Record<string, unknown>;
}

/** How much the manager keeps per backend; the oldest messages go first. */
export interface DetachedLimits {
  messages: number;
  bytes: number;
}

export interface DetachedOutput {
  kernelId: string;
  /** When the manager began keeping this output (ms since epoch): the moment the last client left. */
  since: number;
  entries: DetachedEntry[];
  /** Messages dropped (oldest first) to stay within `limits`. */
  dropped: number;
  limits: DetachedLimits;
}

/** What `list` shows of the output a backend holds for the next client (no content). */
export interface HeldOutputSummary {
  /** True once the manager's iopub subscription is known to be live (it received a message, e.g. iopub_welcome). */
  subscribed: boolean;
  messages: number;
  bytes: number;
  dropped: number;
  /** True when the last kept message is a cell's final `idle`: nothing of it is still running. */
  finished: boolean;
}

const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

export const DetachedOutputSchema = v.object({
  kernelId: v.string(),
  since: v.number(),
  entries: v.array(
    v.object({
      msgType: v.picklist(DETACHED_MSG_TYPES),
      at: v.number(),
      parent: v.optional(v.object({ msgId: v.string(), date: v.optional(v.string()) })),
      content: v.record(v.string(), v.unknown()),
    }),
  ),
  dropped: count,
  limits: v.object({ messages: count, bytes: count }),
});
type _DetachedOutputShape = Assert<Same<v.InferOutput<typeof DetachedOutputSchema>, DetachedOutput>>;
