import type { Command } from 'commander';
import { parseStopTarget, targetString, type StopTarget } from '../fleet-args.js';
import { action, fleetContext, withCommonOptions, withManager, writeJson, type CommonFlags } from './fleet-shared.js';

export function registerInterrupt(program: Command): void {
  withCommonOptions(program.command('interrupt'))
    .description("interrupt a backend's running cell in its own interrupt mode (SIGINT or interrupt_request), as a notebook's interrupt would")
    .argument('<id|port>', 'backend id (e.g. python-none-1a2b3c4d) or one of its ports', parseStopTarget)
    .action(
      action(async (target: StopTarget, flags: CommonFlags) => {
        const ctx = fleetContext(flags);
        const result = await withManager(ctx, (client) => client.request<{ interrupted: string; mode: string }>({ op: 'interrupt', target: targetString(target) }));
        if (ctx.json) writeJson(result);
        else process.stdout.write(`interrupted ${result.interrupted} (${result.mode === 'signal' ? 'SIGINT to its process group' : 'interrupt_request on control'})\n`);
      }),
    );
}
