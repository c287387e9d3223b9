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

/**
 * A cell a router had running on a backend when it left (its execute_request): the cell's
 * execute_input was published before the manager subscribed, so this is how the heading of
 * its output can name it.
 */
export interface RunningCell {
  msgId: string;
  /** The cell's code, cut to RUNNING_CODE_MAX characters (only its first line is shown). */
  code: string;
  /** The request's date (ISO 8601), when the client set it. */
  date?: string;
}

export const RUNNING_CODE_MAX = 1000;
/** Running cells a router reports per backend when it leaves (Jupyter clients queue, kernels run one at a time). */
export const RUNNING_CELLS_MAX = 16;

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
  /** Cells that were running when the last client left, as its router reported them. */
  cells?: RunningCell[];
}

/** What `list` shows of the output a backend holds for the next client (no content). */
export interface HeldOutputSummary {
  /** True while the manager subscribes to the backend's iopub and knows it is live (it received a message, e.g. iopub_welcome). */
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
  cells: v.optional(v.array(v.object({ msgId: v.string(), code: v.string(), date: v.optional(v.string()) }))),
});
type _DetachedOutputShape = Assert<Same<v.InferOutput<typeof DetachedOutputSchema>, DetachedOutput>>;
