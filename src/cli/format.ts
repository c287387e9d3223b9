/**
 * Pure text helpers for the CLI's human output: durations, sizes, port lists (tables: shared/table.ts).
 * No I/O here; commands gather data and hand it to these.
 */

/** Shown for a value we do not know (no RSS for a dead pid, no latency without a heartbeat). */
export const UNKNOWN = '-';

/** "45s", "3m12s", "2h05m", "3d04h": the two most significant units, like `ps` users expect. */
export function formatUptime(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return UNKNOWN;
  const s = Math.floor(ms / 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${pad(s % 60)}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${pad(m % 60)}m`;
  return `${Math.floor(h / 24)}d${pad(h % 24)}h`;
}

const BYTE_UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** Binary units with one decimal below 10 ("1.5 MiB", "12 MiB"); "-" when unknown. */
export function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return UNKNOWN;
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit: string = 'B';
  for (const next of BYTE_UNITS) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  const shown = value < 10 ? value.toFixed(1) : String(Math.round(value));
  return `${shown} ${unit}`;
}

/** "12ms", "0.4ms"; "-" when unknown. */
export function formatLatency(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return UNKNOWN;
  return ms < 10 ? `${Number(ms.toFixed(1))}ms` : `${Math.round(ms)}ms`;
}

/**
 * Ports as the record lists them (shell, iopub, stdin, control, hb). A consecutive run, as a
 * kernel started with a fixed --port binds, is shown as a range.
 */
export function formatPorts(ports: readonly number[]): string {
  if (ports.length === 0) return UNKNOWN;
  const consecutive = ports.every((p, i) => i === 0 || p === (ports[i - 1] as number) + 1);
  if (consecutive && ports.length > 2) return `${ports[0]}-${ports[ports.length - 1]}`;
  return ports.join(',');
}


/** `key  value` lines with aligned values, for one object (spawn's output). */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([k]) => k.length));
  return fields.map(([k, v]) => `${k.padEnd(width)}  ${v}`.trimEnd()).join('\n') + '\n';
}
