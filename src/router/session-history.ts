/**
 * The input history of the router's session, numbered with the session's execution counts.
 * A backend's history only has its own cells, numbered its own way, so the router answers
 * history_request about the current session itself. Pure: the router feeds it the code of each
 * cell that stores history, and asks it for a history_reply's content.
 *
 * Decisions (README, "Execution counts and history"):
 * - The session is reported as number 0: IPython's history API names the current session 0
 *   in range requests, and clients (jupyter console, JupyterLab's console, qtconsole) read only
 *   the input of each tuple.
 * - Output is not recorded: with output=true each entry is (session, line, (input, null)),
 *   which is what IPython (hence ipykernel) returns too unless its history logs output
 *   (HistoryManager.db_log_output, off by default).
 * - The input is what the client sent (raw), also for raw=false: the router transforms nothing.
 * - Earlier sessions live in the backends: a range request for another session, and a tail or
 *   search before this session has run a cell (jupyter console asks for the tail at start),
 *   go to the default backend, whose reply keeps its own numbering.
 */
import { globToRegExp, uniqueByInput } from '../shared/history-search.js';

export interface HistoryEntry {
  readonly line: number;
  readonly input: string;
}

/** history_request content as the spec defines it; anything may be missing or of another type. */
export interface HistoryRequestContent {
  output?: unknown;
  raw?: unknown;
  hist_access_type?: unknown;
  session?: unknown;
  start?: unknown;
  stop?: unknown;
  n?: unknown;
  pattern?: unknown;
  unique?: unknown;
}

export type HistoryTuple = [number, number, string] | [number, number, [string, null]];

export interface HistoryReplyContent {
  status: 'ok';
  history: HistoryTuple[];
}

/** The number this session's entries carry. */
export const CURRENT_SESSION = 0;

export class SessionHistory {
  readonly #entries: HistoryEntry[] = [];

  /** `maxEntries`: the oldest cells are forgotten beyond it, so a long session stays bounded. */
  constructor(private readonly maxEntries = 10_000) {}

  get entries(): readonly HistoryEntry[] {
    return this.#entries;
  }

  record(line: number, input: string): void {
    this.#entries.push({ line, input });
    if (this.#entries.length > this.maxEntries) this.#entries.splice(0, this.#entries.length - this.maxEntries);
  }
}

/**
 * The router's history_reply content for `request`, or undefined when the request is about
 * earlier sessions and belongs to the default backend.
 */
export function answerHistory(entries: readonly HistoryEntry[], request: HistoryRequestContent): HistoryReplyContent | undefined {
  const selected = select(entries, request);
  if (selected === undefined) return undefined;
  const output = request.output === true;
  const history = selected.map((e): HistoryTuple => (output ? [CURRENT_SESSION, e.line, [e.input, null]] : [CURRENT_SESSION, e.line, e.input]));
  return { status: 'ok', history };
}

function select(entries: readonly HistoryEntry[], request: HistoryRequestContent): readonly HistoryEntry[] | undefined {
  switch (request.hist_access_type) {
    case 'tail':
      if (entries.length === 0) return undefined;
      return last(entries, request.n);
    case 'search': {
      if (entries.length === 0) return undefined;
      const pattern = globToRegExp(typeof request.pattern === 'string' ? request.pattern : '*');
      let found = entries.filter((e) => pattern.test(e.input));
      if (request.unique === true) found = uniqueByInput(found);
      return last(found, request.n);
    }
    case 'range': {
      const session = typeof request.session === 'number' ? request.session : CURRENT_SESSION;
      if (session !== CURRENT_SESSION) return undefined;
      // IPython's get_range: lines start <= line < stop; start defaults to 1, no stop means to the end.
      const start = typeof request.start === 'number' ? request.start : 1;
      const stop = typeof request.stop === 'number' ? request.stop : Infinity;
      return entries.filter((e) => e.line >= start && e.line < stop);
    }
    default:
      // Not a kind the spec names: answered as empty rather than relayed to a backend that would refuse it too.
      return [];
  }
}

/** The last `n` entries; all of them when n is missing or not a positive number (IPython: n=None). */
function last<T>(items: readonly T[], n: unknown): readonly T[] {
  return typeof n === 'number' && n >= 0 ? items.slice(Math.max(0, items.length - Math.floor(n))) : items;
}
