import type { Command } from 'commander';
import { rssBytes } from '../../fleet/manager/proc.js';
import { formatTable } from '../../shared/table.js';
import { listTable, publicRecord, recordsIn, type ListedRecord, type PublicRecord } from '../fleet-views.js';
import { action, fleetContext, withCommonOptions, withManager, writeJson, type CommonFlags } from './fleet-shared.js';

/** Records with memory (VmRSS from /proc) filled in where the manager left it out, oldest first. */
export function listBackends(records: readonly ListedRecord[], now = Date.now()): PublicRecord[] {
  const out = records.map((r) => publicRecord(r, now, typeof r.rssBytes === 'number' || r.kube !== undefined ? undefined : rssBytes(r.pid)));
  return out.sort((a, b) => a.startedAt - b.startedAt || a.kernelId.localeCompare(b.kernelId));
}

export function registerList(program: Command): void {
  withCommonOptions(program.command('list'))
    .description('show the fleet: id, pid, runtime, provider, ports, attached clients, uptime, memory and state (starting, ready, busy, restarting, stopping, dead) of each backend')
    .action(
      action(async (flags: CommonFlags) => {
        const ctx = fleetContext(flags);
        const result = await withManager(ctx, (client) => client.request<unknown>({ op: 'list' }));
        const backends = listBackends(recordsIn(result));
        if (ctx.json) writeJson(backends);
        else if (backends.length === 0) process.stdout.write('no backends running\n');
        else {
          const { headers, rows } = listTable(backends);
          process.stdout.write(formatTable(headers, rows));
        }
      }),
    );
}
