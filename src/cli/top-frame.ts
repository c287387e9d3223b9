/**
 * Pure: what `llmspell-fleet top` shows, one frame at a time. The same cells as `list`, busiest
 * first, under a header with fleet totals, cut to the terminal's size. The screen handling
 * (alternate screen, cursor, keys) lives in commands/top.ts; nothing here writes anywhere.
 */
import { formatTable } from '../shared/table.js';
import { formatCpu, listTable, type PublicRecord } from './fleet-views.js';
import { formatBytes } from './format.js';

/** Column order for top: what changes and matters most first, so a narrow terminal keeps it. */
const TOP_COLUMNS = ['ID', 'CPU', 'MEMORY', 'STATE', 'CLIENTS', 'UPTIME', 'RUNTIME', 'PROVIDER', 'GROUP', 'PID', 'PORTS'] as const;
/** Columns never dropped for width (the rest go from the right first). */
const KEPT_COLUMNS = 4;

export interface TopView {
  /** Terminal size; undefined = not a terminal (no cutting). */
  columns?: number;
  rows?: number;
  /** Wall clock for the header, e.g. "01:23:45". */
  clock: string;
  /** A problem to show in place of the hint line (manager lost...). */
  status?: string;
}

/** Busiest first: CPU, then memory, then id so equal rows keep their place between frames. */
export function byLoad(a: PublicRecord, b: PublicRecord): number {
  return (b.cpuPercent ?? -1) - (a.cpuPercent ?? -1) || (b.rssBytes ?? -1) - (a.rssBytes ?? -1) || a.kernelId.localeCompare(b.kernelId);
}

/** "3 backends: 2 ready, 1 busy" with the states in the order they first appear after sorting by name. */
function stateCounts(records: readonly PublicRecord[]): string {
  const counts = new Map<string, number>();
  for (const r of [...records].sort((a, b) => a.state.localeCompare(b.state))) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  const noun = records.length === 1 ? 'backend' : 'backends';
  if (counts.size === 0) return `0 ${noun}`;
  return `${records.length} ${noun}: ${[...counts].map(([state, n]) => `${n} ${state}`).join(', ')}`;
}

/** The header: fleet totals (CPU of all backends, 100% = one core; memory summed). */
export function topHeader(records: readonly PublicRecord[], clock: string): string {
  const cpus = records.map((r) => r.cpuPercent).filter((c): c is number => c !== undefined);
  const mems = records.map((r) => r.rssBytes).filter((m): m is number => m !== undefined);
  const cpu = cpus.length > 0 ? formatCpu(cpus.reduce((s, c) => s + c, 0)) : formatCpu(undefined);
  const mem = mems.length > 0 ? formatBytes(mems.reduce((s, m) => s + m, 0)) : formatBytes(undefined);
  return `llmspell-fleet top - ${clock} - ${stateCounts(records)} - cpu ${cpu} - memory ${mem}`;
}

/** Cut a line to `width` characters, marking the cut with an ellipsis. */
export function fitLine(line: string, width: number | undefined): string {
  if (width === undefined || line.length <= width) return line;
  if (width <= 0) return '';
  return `${line.slice(0, width - 1)}…`;
}

/** The table in top's column order, dropping columns from the right while it is wider than `width`. */
export function topTable(records: readonly PublicRecord[], width: number | undefined): string[] {
  const { headers, rows } = listTable([...records].sort(byLoad));
  const order = TOP_COLUMNS.map((name) => headers.indexOf(name)).filter((i) => i >= 0);
  let shown = order.length;
  let lines: string[];
  for (;;) {
    const cols = order.slice(0, shown);
    lines = formatTable(cols.map((i) => headers[i]!), rows.map((row) => cols.map((i) => row[i] ?? ''))).trimEnd().split('\n');
    const widest = Math.max(...lines.map((l) => l.length));
    if (width === undefined || widest <= width || shown <= KEPT_COLUMNS) break;
    shown--;
  }
  return lines.map((l) => fitLine(l, width));
}

/**
 * The frame's lines: header, hint (or status), blank, table. With a height, rows that do not
 * fit are replaced by a "… N more" line so the count is never hidden.
 */
export function renderTopFrame(records: readonly PublicRecord[], view: TopView): string[] {
  const head = [topHeader(records, view.clock), view.status ?? 'q or Ctrl-C quits; sorted by cpu, then memory', ''].map((l) => fitLine(l, view.columns));
  if (records.length === 0) return [...head, fitLine('no backends running', view.columns)];
  const table = topTable(records, view.columns);
  if (view.rows === undefined || head.length + table.length <= view.rows) return [...head, ...table];
  // Header line of the table, as many rows as fit, and one line saying how many are hidden.
  const room = Math.max(0, view.rows - head.length - 2);
  const hidden = table.length - 1 - room;
  return [...head, ...table.slice(0, 1 + room), fitLine(`… ${hidden} more`, view.columns)];
}
