#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { describeError, isFleetError } from '../shared/errors.js';
import { registerDoctor } from './commands/doctor.js';
import { registerFleetCommands } from './commands/fleet.js';
import { registerInstall } from './commands/install.js';
import { registerLlmspellAdapter } from './commands/llmspell-adapter.js';
import { registerManager } from './commands/manager.js';
import { registerRouter } from './commands/router.js';
import { registerUninstall } from './commands/uninstall.js';
import { VERSION } from '../shared/package.js';

const program = new Command()
  .name('llmspell-fleet')
  .description('A Jupyter kernel that routes each client to the backend kernel (runtime + LLM provider) it asks for.')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)');

registerRouter(program);
registerInstall(program);
registerUninstall(program);
registerManager(program);
registerFleetCommands(program);
registerDoctor(program);
registerLlmspellAdapter(program);

program.parseAsync(process.argv).catch((error: unknown) => {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
    return;
  }
  // Errors we raise carry a message written for the user; anything else is a bug worth its stack.
  process.stderr.write(`llmspell-fleet: ${isFleetError(error) ? error.message : describeError(error)}\n`);
  if (!isFleetError(error) && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
