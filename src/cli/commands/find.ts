import { providerKeyEnv } from '../../shared/provider-keys.js';
import type { Command } from 'commander';
import { publicRecord } from '../fleet-views.js';
import { action, fleetContext, requirementFrom, withCommonOptions, withManager, writeJson } from './fleet-shared.js';
import { backendIn, withRequirementOptions, type RequirementFlags } from './spawn.js';

export function registerFind(program: Command): void {
  withRequirementOptions(withCommonOptions(program.command('find')))
    .description(
      'find the running backend for a runtime and provider, or start one; prints only its connection file, so that ' +
        '`jupyter console --existing "$(llmspell-fleet find --runtime R --provider P)"` attaches to it',
    )
    .action(
      action(async (flags: RequirementFlags) => {
        const ctx = fleetContext(flags);
        const requirement = await requirementFrom(flags, ctx);
        const result = await withManager(ctx, (client) => client.request<unknown>({ op: 'find', requirement, keys: providerKeyEnv(ctx.env) }));
        const record = publicRecord(backendIn(result, 'find'), Date.now());
        if (ctx.json) writeJson(record);
        else process.stdout.write(`${record.connectionFile}\n`);
      }),
    );
}
