import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatTable, parseVmRss } from '../format.js';
import { listTable, publicRecord, recordsIn, type ListedRecord, type PublicRecord } from '../fleet-views.js';
import { action, fleetContext, withCommonOptions, withManager, writeJson, type CommonFlags } from './fleet-shared.js';

/** Resident memory of a pid from /proc (Linux); undefined elsewhere or when it is gone. */
export async function readRss(pid: number): Promise<number | undefined> {
  try {
    return parseVmRss(await readFile(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Records with memory filled in where the manager left it out, oldest first. */
export async function listBackends(records: readonly ListedRecord[], now = Date.now()): Promise<PublicRecord[]> {
  const out = await Promise.all(
    records.map(async (r) => publicRecord(r, now, typeof r.rssBytes === 'number' ? undefined : await readRss(r.pid))),
  );
  return out.sort((a, b) => a.startedAt - b.startedAt || a.kernelId.localeCompare(b.kernelId));
}

export function registerList(program: Command): void {
  withCommonOptions(program.command('list'))
    .description('show the fleet: id, pid, runtime, provider, ports, attached clients, uptime, memory and state of each backend')
    .action(
      action(async (flags: CommonFlags) => {
        const ctx = fleetContext(flags);
        const result = await withManager(ctx, (client) => client.request<unknown>({ op: 'list' }));
        const backends = await listBackends(recordsIn(result));
        if (ctx.json) writeJson(backends);
        else if (backends.length === 0) process.stdout.write('no backends running\n');
        else {
          const { headers, rows } = listTable(backends);
          process.stdout.write(formatTable(headers, rows));
        }
      }),
    );
}
