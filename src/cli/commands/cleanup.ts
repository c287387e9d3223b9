import type { Command } from 'commander';
import { cleanupLines, publicCleanup } from '../fleet-views.js';
import { action, fleetContext, withCommonOptions, withManager, writeJson, type CommonFlags } from './fleet-shared.js';

export function registerCleanup(program: Command): void {
  withCommonOptions(program.command('cleanup'))
    .description('forget backends whose process is gone and remove their stale connection files, containers, and pods and Secrets')
    .action(
      action(async (flags: CommonFlags) => {
        const ctx = fleetContext(flags);
        const result = await withManager(ctx, (client) => client.request<unknown>({ op: 'cleanup' }));
        if (ctx.json) writeJson(publicCleanup(result, Date.now()));
        else process.stdout.write(cleanupLines(result));
      }),
    );
}
