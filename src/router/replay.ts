/**
 * Pure: the output a backend printed while no client was attached, as the text a client is
 * shown in its first cell on that backend (and again by `%llmspell replay`). One section per
 * cell, headed by when it started and, when its execute_input was kept, its first line of code;
 * ended by whether it finished. Rich output shows its text/plain form: a stream cannot carry
 * more, and the returning user mainly wants to know what happened.
 */
import { RUNNING_CODE_MAX, type DetachedEntry, type DetachedOutput, type RunningCell } from '../shared/detached-output.js';
import type { WireMessage } from '../wire/codec.js';

export const REPLAY_TITLE = 'output while no client was attached';

export interface ReplayFormatOptions {
  /** IANA zone for the clock times; default the router's local zone. */
  timeZone?: string;
}

/** Pure: "HH:MM:SS" of `ms` in `timeZone` (24-hour clock). */
export function clockTime(ms: number, timeZone?: string): string {
  return new Intl.DateTimeFormat('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZone }).format(ms);
}

/** Pure: the first line of a cell's code, shortened to `max` characters. */
export function codeLabel(code: string, max = 40): string {
  const lines = code.trim().split('\n');
  const first = lines[0] ?? '';
  return first.length > max ? `${first.slice(0, max - 1)}…` : lines.length > 1 ? `${first} …` : first;
}

/** Pure: the heading of one cell's section. */
export function replayHeading(started: number | undefined, code: string | undefined, timeZone?: string): string {
  const when = started === undefined ? 'a cell' : `cell started ${clockTime(started, timeZone)}`;
  return `── ${REPLAY_TITLE} (${when}${code === undefined ? '' : `: \`${codeLabel(code)}\``}) ──\n`;
}

/** Pure: the text a client is shown; empty when nothing was kept. */
export function formatReplay(output: DetachedOutput, options: ReplayFormatOptions = {}): string {
  const { timeZone } = options;
  const codes = new Map<string, { code: string; at?: number }>();
  for (const c of output.cells ?? []) codes.set(c.msgId, { code: c.code, at: dateMs(c.date) });
  for (const e of output.entries) {
    if (e.msgType === 'execute_input' && e.parent !== undefined && typeof e.content.code === 'string') codes.set(e.parent.msgId, { code: e.content.code, at: e.at });
  }
  let text = '';
  if (output.dropped > 0) {
    const mb = (output.limits.bytes / (1024 * 1024)).toFixed(1);
    text += `── ${output.dropped} earlier message${output.dropped === 1 ? ' was' : 's were'} dropped (the fleet keeps ${output.limits.messages} messages / ${mb} MB per backend: fleet.toml [replay]) ──\n`;
  }
  for (const run of runsByCell(output.entries)) {
    const parent = run[0]!.parent;
    const input = parent === undefined ? undefined : codes.get(parent.msgId);
    const started = dateMs(parent?.date) ?? input?.at;
    text += replayHeading(started, input?.code, timeZone);
    let body = '';
    let finished: number | undefined;
    for (const entry of run) {
      if (entry.msgType === 'status') finished = entry.at;
      else body += entryText(entry);
    }
    if (body.length > 0 && !body.endsWith('\n')) body += '\n';
    text += body;
    text += finished === undefined ? '── (still running when this client attached) ──\n' : `── cell finished ${clockTime(finished, timeZone)} ──\n`;
  }
  return output.entries.length === 0 && output.dropped === 0 ? '' : text;
}

/** Consecutive entries of the same cell; a kernel runs one cell at a time, so a cell is one run. */
function runsByCell(entries: readonly DetachedEntry[]): DetachedEntry[][] {
  const runs: DetachedEntry[][] = [];
  for (const entry of entries) {
    const last = runs.at(-1);
    if (last !== undefined && last[0]!.parent?.msgId === entry.parent?.msgId) last.push(entry);
    else runs.push([entry]);
  }
  return runs;
}

function entryText(entry: DetachedEntry): string {
  const c = entry.content;
  switch (entry.msgType) {
    case 'stream':
      return typeof c.text === 'string' ? c.text : '';
    case 'display_data':
    case 'update_display_data':
    case 'execute_result': {
      const data = (c.data ?? {}) as Record<string, unknown>;
      const plain = data['text/plain'];
      if (typeof plain === 'string') return `${plain}\n`;
      const kinds = Object.keys(data);
      return kinds.length > 0 ? `[${kinds.join(', ')} output, not shown here]\n` : '';
    }
    case 'error': {
      const trace = c.traceback;
      if (Array.isArray(trace) && trace.length > 0 && trace.every((l) => typeof l === 'string')) return `${trace.join('\n')}\n`;
      return `${String(c.ename ?? 'Error')}: ${String(c.evalue ?? '')}\n`;
    }
    default:
      return '';
  }
}

/** The cells of ours a backend is still running (execute_requests without a reply), as the manager is told when we leave. */
export function runningCells(requests: Iterable<WireMessage>): RunningCell[] {
  const cells: RunningCell[] = [];
  for (const msg of requests) {
    if (msg.msgType !== 'execute_request') continue;
    try {
      const code = msg.content<{ code?: unknown }>().code;
      const date = msg.header.date;
      cells.push({ msgId: msg.msgId, code: typeof code === 'string' ? code.slice(0, RUNNING_CODE_MAX) : '', ...(typeof date === 'string' ? { date: date.slice(0, 64) } : {}) });
    } catch {
      // Content that is not JSON never reached a backend as a cell: nothing to name.
    }
  }
  return cells;
}

function dateMs(date: string | undefined): number | undefined {
  if (date === undefined) return undefined;
  const ms = Date.parse(date);
  return Number.isNaN(ms) ? undefined : ms;
}
