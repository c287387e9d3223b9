/**
 * The commander program, with only the commands a command line needs. Each command's module
 * brings in what its action uses (zeromq, pino, the manager, the llmspell adapter, smol-toml...),
 * and loading all of them took most of a router's start-up (issue #12): a router loads the
 * router command alone. Help and anything commander must list or suggest from get every command.
 */
import { createRequire } from 'node:module';
import type * as Commander from 'commander';
import type { Command } from 'commander';
import { VERSION } from '../shared/package.js';
import { onlyVersion } from './command-line.js';

// Required, not imported: importing CommonJS from ESM costs start-up time (see src/wire/zmq.ts).
const { Command: CommandClass, CommanderError } = createRequire(import.meta.url)('commander') as typeof Commander;

/** commander's error class, from the one copy loaded here (main.ts tells exits from failures by it). */
export { CommanderError };

type Registrar = (program: Command) => void;

/** One command's registrar, by the name it is run as; a command missing here still works (through registerAll), only slower. */
const COMMANDS: Readonly<Record<string, () => Promise<Registrar>>> = {
  router: async () => (await import('./commands/router.js')).registerRouter,
  'router-host': async () => (await import('./commands/router-host.js')).registerRouterHost,
  install: async () => (await import('./commands/install.js')).registerInstall,
  uninstall: async () => (await import('./commands/uninstall.js')).registerUninstall,
  manager: async () => (await import('./commands/manager.js')).registerManager,
  spawn: async () => (await import('./commands/spawn.js')).registerSpawn,
  find: async () => (await import('./commands/find.js')).registerFind,
  list: async () => (await import('./commands/list.js')).registerList,
  top: async () => (await import('./commands/top.js')).registerTop,
  stop: async () => (await import('./commands/stop.js')).registerStop,
  interrupt: async () => (await import('./commands/interrupt.js')).registerInterrupt,
  'stop-all': async () => (await import('./commands/stop.js')).registerStopAll,
  cleanup: async () => (await import('./commands/cleanup.js')).registerCleanup,
  health: async () => (await import('./commands/health.js')).registerHealth,
  logs: async () => (await import('./commands/logs.js')).registerLogs,
  doctor: async () => (await import('./commands/doctor.js')).registerDoctor,
  dashboard: async () => (await import('./commands/dashboard.js')).registerDashboard,
  service: async () => (await import('./commands/service.js')).registerService,
  'llmspell-adapter': async () => (await import('./commands/llmspell-adapter.js')).registerLlmspellAdapter,
};

export const LAZY_COMMAND_NAMES: readonly string[] = Object.keys(COMMANDS);

/** Every command, in the order `--help` lists them. */
async function registerAll(program: Command): Promise<void> {
  const registrars = await Promise.all([
    COMMANDS.router!(),
    COMMANDS['router-host']!(),
    COMMANDS.install!(),
    COMMANDS.uninstall!(),
    COMMANDS.manager!(),
    COMMANDS.service!(),
    import('./commands/fleet.js').then((m) => m.registerFleetCommands),
    COMMANDS.doctor!(),
    COMMANDS['llmspell-adapter']!(),
  ]);
  for (const register of registrars) register(program);
}

/**
 * Pure: the commands `args` (argv without node and the script) needs. 'all' unless the first
 * argument names a command (its options and --help belong to it alone) or the line is only a
 * version flag. Options before the command (`-h router`) are the program's, so they get 'all'.
 */
export function commandsFor(args: readonly string[], known: readonly string[] = LAZY_COMMAND_NAMES): 'all' | string[] {
  const first = args[0];
  if (first !== undefined && known.includes(first)) return [first];
  if (onlyVersion(args)) return [];
  return 'all';
}

export async function createProgram(argv: readonly string[]): Promise<Command> {
  const program = new CommandClass()
    .name('llmspell-fleet')
    .description('A Jupyter kernel that routes each client to the backend kernel (runtime + LLM provider) it asks for.')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)');
  const needed = commandsFor(argv.slice(2));
  if (needed === 'all') await registerAll(program);
  else for (const register of await Promise.all(needed.map((name) => COMMANDS[name]!()))) register(program);
  return program;
}
