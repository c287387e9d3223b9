/**
 * A fleet command that acts on one backend named by its id or one of its ports (stop,
 * interrupt): the argument, the manager op that takes it as its target, and how the answer is
 * shown (as JSON with --json, else as lines).
 */
import type { Command } from 'commander';
import { parseStopTarget, targetString, type StopTarget } from '../fleet-args.js';
import { action, fleetContext, withCommonOptions, withManager, writeJson, type CommonFlags } from './fleet-shared.js';

export interface TargetCommand<R> {
  name: 'stop' | 'interrupt';
  description: string;
  /** What the argument names, with an example id. */
  argument: string;
  /** The answer as --json prints it. */
  json: (result: R) => unknown;
  /** The answer as a person reads it, newline-terminated. */
  lines: (result: R) => string;
}

export function targetCommand<R>(program: Command, spec: TargetCommand<R>): void {
  withCommonOptions(program.command(spec.name))
    .description(spec.description)
    .argument('<id|port>', spec.argument, parseStopTarget)
    .action(
      action(async (target: StopTarget, flags: CommonFlags) => {
        const ctx = fleetContext(flags);
        const result = await withManager(ctx, (client) => client.request<R>({ op: spec.name, target: targetString(target) }));
        if (ctx.json) writeJson(spec.json(result));
        else process.stdout.write(spec.lines(result));
      }),
    );
}
