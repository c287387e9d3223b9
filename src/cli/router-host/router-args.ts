/**
 * A kernel stub's command line read with the router command's own definition
 * (commands/router.ts), so the host and a standalone router never disagree on a flag. Nothing
 * is printed: a line that does not parse, or asks for help, is left to the standalone router
 * (the host answers `fallback`), which says exactly what it would have said.
 */
import { createRequire } from 'node:module';
import type * as Commander from 'commander';
import { defineRouterCommand, type RouterFlags } from '../commands/router.js';

// Required, not imported: importing CommonJS from ESM costs start-up time (see src/wire/zmq.ts).
const { Command } = createRequire(import.meta.url)('commander') as typeof Commander;

export type RouterArgs = { ok: true; flags: RouterFlags } | { ok: false; problem: string };

/** `args`: the command line after node and the entry script, e.g. ["router", "--connection-file", F]. */
export async function parseRouterArgs(args: readonly string[]): Promise<RouterArgs> {
  if (args[0] !== 'router') return { ok: false, problem: `the command is ${JSON.stringify(args[0] ?? '')}, not "router"` };
  const program = new Command()
    .name('llmspell-fleet')
    .exitOverride()
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });
  let flags: RouterFlags | undefined;
  defineRouterCommand(program, (parsed) => {
    flags = { ...parsed };
  });
  try {
    await program.parseAsync([...args], { from: 'user' });
  } catch (error) {
    return { ok: false, problem: `the router's command line does not parse (${(error as { code?: string }).code ?? String(error)})` };
  }
  if (flags === undefined) return { ok: false, problem: "the router's command line runs no router" };
  return { ok: true, flags };
}
