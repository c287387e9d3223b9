import { describe, expect, it } from 'vitest';
import { parseDelay } from '../../../src/cli/commands/top.js';
import type { PublicRecord } from '../../../src/cli/fleet-views.js';
import { byLoad, fitLine, renderTopFrame, topHeader, topTable } from '../../../src/cli/top-frame.js';

function rec(kernelId: string, over: Partial<PublicRecord> = {}): PublicRecord {
  return {
    kernelId,
    pid: 4242,
    requirement: { runtime: 'lua', provider: 'openai' },
    state: 'ready',
    interruptMode: 'signal',
    connectionFile: `/f/backends/${kernelId}.json`,
    logFile: `/f/logs/${kernelId}.log`,
    ip: '127.0.0.1',
    ports: [41001, 41002, 41003, 41004, 41005],
    startedAt: 0,
    uptimeMs: 192_000,
    clients: 1,
    attached: [{ routerId: 'r1', pid: 1 }],
    ...over,
  };
}

const MiB = 1024 * 1024;
const idle = rec('idle-1', { cpuPercent: 0, rssBytes: 40 * MiB });
const hot = rec('hot-1', { cpuPercent: 97.3, rssBytes: 10 * MiB, state: 'busy' });
const fat = rec('fat-1', { cpuPercent: 0, rssBytes: 900 * MiB });
const unknown = rec('unknown-1', { state: 'dead' });

describe('byLoad', () => {
  it.each([
    ['CPU first', [idle, hot], ['hot-1', 'idle-1']],
    ['memory when CPU is equal', [idle, fat], ['fat-1', 'idle-1']],
    ['unmeasured last', [unknown, idle], ['idle-1', 'unknown-1']],
    ['id when all else is equal', [rec('b', { cpuPercent: 1 }), rec('a', { cpuPercent: 1 })], ['a', 'b']],
  ] as const)('%s', (_, records, ids) => {
    expect([...records].sort(byLoad).map((r) => r.kernelId)).toEqual(ids);
  });
});

describe('topHeader', () => {
  it.each([
    ['empty fleet', [], 'llmspell-fleet top - 12:00:00 - 0 backends - cpu - - memory -'],
    ['one backend', [hot], 'llmspell-fleet top - 12:00:00 - 1 backend: 1 busy - cpu 97% - memory 10 MiB'],
    ['totals over the measured ones', [hot, idle, unknown], 'llmspell-fleet top - 12:00:00 - 3 backends: 1 busy, 1 dead, 1 ready - cpu 97% - memory 50 MiB'],
  ] as const)('%s', (_, records, header) => {
    expect(topHeader(records, '12:00:00')).toBe(header);
  });
});

describe('fitLine', () => {
  it.each([
    ['abcdef', undefined, 'abcdef'],
    ['abcdef', 6, 'abcdef'],
    ['abcdef', 4, 'abc…'],
    ['abcdef', 1, '…'],
    ['abcdef', 0, ''],
  ] as const)('%j at %j -> %j', (line, width, out) => {
    expect(fitLine(line, width)).toBe(out);
  });
});

describe('topTable', () => {
  it('puts the busiest first, CPU and memory next to the id', () => {
    const lines = topTable([idle, hot], undefined);
    expect(lines[0]).toMatch(/^ID\s+CPU\s+MEMORY\s+STATE\s+CLIENTS\s+UPTIME\s+RUNTIME\s+PROVIDER\s+PID\s+PORTS$/);
    expect(lines[1]).toMatch(/^hot-1\s+97%\s+10 MiB\s+busy\s/);
    expect(lines[2]).toMatch(/^idle-1\s+0\.0%\s+40 MiB\s+ready\s/);
  });

  it.each([40, 50, 60, 80, 120])('fits %i columns, dropping columns from the right before cutting', (width) => {
    const lines = topTable([idle, hot, fat], width);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
    expect(lines[0]).toMatch(/^ID\s+CPU\s+MEMORY\s+STATE/);
    // A dropped column goes whole, header and cells: no half PORTS column.
    expect(lines[0]).not.toMatch(/PO$|PORT$/);
  });

  it('cuts with an ellipsis only when even id, cpu, memory and state are too wide', () => {
    const lines = topTable([rec('a-very-long-kernel-id-that-does-not-fit', { cpuPercent: 5, rssBytes: MiB })], 20);
    expect(lines.every((l) => l.length <= 20)).toBe(true);
    expect(lines[1]).toBe('a-very-long-kernel-…');
  });
});

describe('renderTopFrame', () => {
  it('says so for an empty fleet', () => {
    expect(renderTopFrame([], { clock: '12:00:00' })).toEqual([
      'llmspell-fleet top - 12:00:00 - 0 backends - cpu - - memory -',
      'q or Ctrl-C quits; sorted by cpu, then memory',
      '',
      'no backends running',
    ]);
  });

  it('shows a status in place of the hint', () => {
    expect(renderTopFrame([], { clock: 'x', status: 'lost the fleet manager: gone; retrying' })[1]).toBe('lost the fleet manager: gone; retrying');
  });

  it.each([
    [undefined, 8],
    [100, 8],
    [8, 8],
    [7, 7],
    [6, 6],
  ])('with %s rows, 4 backends take %i lines and hidden ones are counted', (rows, lines) => {
    const many = [idle, hot, fat, unknown];
    const frame = renderTopFrame(many, { clock: 'x', rows });
    expect(frame).toHaveLength(lines);
    const shown = frame.slice(4).filter((l) => !l.startsWith('…')).length;
    const more = frame.at(-1)!.match(/^… (\d+) more$/);
    expect(shown + (more ? Number(more[1]) : 0)).toBe(many.length);
  });

  it('keeps every line within the width', () => {
    const frame = renderTopFrame([idle, hot], { clock: '12:00:00', columns: 30, rows: 10 });
    for (const line of frame) expect(line.length).toBeLessThanOrEqual(30);
  });
});

describe('parseDelay', () => {
  it.each([
    ['1', 1000],
    ['0.5', 500],
  ])('%s s -> %i ms', (value, ms) => {
    expect(parseDelay(value)).toBe(ms);
  });
  it.each(['0', 'abc', '-1', '0.1'])('refuses %s', (value) => {
    expect(() => parseDelay(value)).toThrow(/--delay/);
  });
});
