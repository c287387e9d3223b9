import type { Command } from 'commander';
import { formatTable } from '../../shared/table.js';
import { healthReportsIn, healthTable, isHealthy, publicHealth } from '../fleet-views.js';
import { action, fleetContext, withCommonOptions, withManager, writeJson, type CommonFlags } from './fleet-shared.js';

export function registerHealth(program: Command): void {
  withCommonOptions(program.command('health'))
    .description('check each backend: process alive, heartbeat answered, heartbeat latency; exits 1 if any backend is unhealthy')
    .action(
      action(async (flags: CommonFlags) => {
        const ctx = fleetContext(flags);
        const result = await withManager(ctx, (client) => client.request<unknown>({ op: 'health' }));
        const reports = healthReportsIn(result);
        if (ctx.json) writeJson(reports.map(publicHealth));
        else if (reports.length === 0) process.stdout.write('no backends running\n');
        else {
          const { headers, rows } = healthTable(reports);
          process.stdout.write(formatTable(headers, rows));
        }
        const sick = reports.filter((r) => !isHealthy(r));
        if (sick.length > 0) {
          process.stderr.write(`llmspell-fleet: ${sick.length} of ${reports.length} backend(s) unhealthy: ${sick.map((r) => r.kernelId).join(', ')}\n`);
          process.exitCode = 1;
        }
      }),
    );
}
