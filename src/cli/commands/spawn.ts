import { providerKeyEnv } from '../../shared/provider-keys.js';
import type { Command } from 'commander';
import { parseGroup } from '../fleet-args.js';
import { backendFields, publicRecord, recordOf, type ListedRecord } from '../fleet-views.js';
import { CliError, action, fleetContext, requirementFrom, withCommonOptions, withManager, writeJson, type CommonFlags } from './fleet-shared.js';

export interface RequirementFlags extends CommonFlags {
  runtime?: string;
  provider?: string;
  group?: string;
}

/** --runtime/--provider/--group, shared by spawn and find. */
export function withRequirementOptions(cmd: Command): Command {
  return cmd
    .option('--runtime <name>', 'backend runtime (lua, python, javascript, ...); default $LLMSPELL_RUNTIME, then the config')
    .option('--provider <name>', 'LLM provider (openai, anthropic, ollama, ...); default $LLMSPELL_PROVIDER, then the config')
    .option('--group <name>', 'share only with clients that ask for the same group', parseGroup);
}

/** The record in a spawn/find answer, or an error saying the manager answered something else. */
export function backendIn(result: unknown, op: string): ListedRecord {
  const record = recordOf(result);
  if (!record) throw new CliError(`the fleet manager's answer to ${op} holds no backend record; is it the same version as this CLI?`);
  return record;
}

export function registerSpawn(program: Command): void {
  withRequirementOptions(withCommonOptions(program.command('spawn')))
    .description('start a new backend for a runtime and provider, even if a matching one runs; prints its id, pid and connection file')
    .action(
      action(async (flags: RequirementFlags) => {
        const ctx = fleetContext(flags);
        const requirement = await requirementFrom(flags, ctx);
        const result = await withManager(ctx, (client) => client.request<unknown>({ op: 'spawn', requirement, keys: providerKeyEnv(ctx.env) }));
        const record = publicRecord(backendIn(result, 'spawn'), Date.now());
        if (ctx.json) writeJson(record);
        else process.stdout.write(backendFields(record));
      }),
    );
}
