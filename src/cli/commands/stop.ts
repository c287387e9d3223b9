import type { Command } from 'commander';
import { publicStopped, stoppedLines } from '../fleet-views.js';
import { action, fleetContext, withCommonOptions, withManager, writeJson, type CommonFlags } from './fleet-shared.js';
import { targetCommand } from './target-command.js';

export function registerStop(program: Command): void {
  targetCommand<unknown>(program, {
    name: 'stop',
    description: 'stop one backend, named by its id or any of its ports (see `llmspell-fleet list`); attached clients see it die',
    argument: 'backend id (e.g. lua-openai-1a2b3c4d) or one of its ports',
    json: (result) => publicStopped(result, Date.now()),
    lines: stoppedLines,
  });
}

export function registerStopAll(program: Command): void {
  withCommonOptions(program.command('stop-all'))
    .description('stop every backend of the fleet (the manager keeps running)')
    .action(
      action(async (flags: CommonFlags) => {
        const ctx = fleetContext(flags);
        const result = await withManager(ctx, (client) => client.request<unknown>({ op: 'stop-all' }));
        if (ctx.json) writeJson(publicStopped(result, Date.now()));
        else process.stdout.write(stoppedLines(result));
      }),
    );
}
