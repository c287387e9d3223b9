import { unlink } from 'node:fs/promises';
import type { Command } from 'commander';
import { LlmspellAdapter } from '../../adapters/llmspell/adapter.js';
import { clientConnection, siblingPath } from '../../adapters/llmspell/connection.js';
import type { InterruptPolicy } from '../../adapters/llmspell/policy.js';
import { describeError } from '../../shared/errors.js';
import { providerConfig } from '../../adapters/llmspell/provider-config.js';
import { writeFileAtomic } from '../../shared/atomic-write.js';
import { createLogger } from '../../shared/log.js';
import { runCommand } from '../../shared/process.js';
import { findSystemExecutable } from '../../shared/which.js';
import { endpoint, writeConnectionFile } from '../../wire/connection-file.js';
import { CHANNELS } from '../../wire/messages.js';
import { watchParent } from '../parent-watch.js';

interface AdapterFlags {
  connectionFile: string;
  transport: string;
  llmspellConnectionFile?: string;
  llmspellLog?: string;
  interrupt: string;
  interruptGrace: string;
  startupTimeout: string;
  logLevel: string;
  loopbackUp?: boolean;
  llmspellProvider?: string;
  llmspellProviderConfig?: string;
}

/** In llmspell's argv, replaced by the path of the connection file llmspell writes. */
export const LLMSPELL_FILE_PLACEHOLDER = '{llmspell_connection_file}';
const DEFAULT_ARGV = ['llmspell', 'kernel', 'start', '--port', '0', '--connection-file', LLMSPELL_FILE_PLACEHOLDER];

export function registerLlmspellAdapter(program: Command): void {
  program
    .command('llmspell-adapter')
    .description(
      'run llmspell as a conformant Jupyter kernel: start `llmspell kernel start` as a child, own its one connection, and serve the five Jupyter sockets of --connection-file (what the lua runtime and the "LLMSpell (Lua)" kernelspec run)',
    )
    .usage('--connection-file <file> [options] [-- llmspell [flags] kernel start --port 0 --connection-file {llmspell_connection_file}]')
    .requiredOption('--connection-file <file>', 'the clients\' connection file: bound if it exists (Jupyter wrote it), else written by the adapter')
    .option('--transport <tcp|ipc>', 'when the adapter writes the connection file: tcp on 127.0.0.1, or ipc sockets beside the file', 'tcp')
    .option('--llmspell-connection-file <file>', 'where llmspell writes its own connection file (default: beside --connection-file)')
    .option('--llmspell-log <file>', "llmspell's stdout and stderr (default: beside --connection-file)")
    .option('--interrupt <notice|restart>', 'on interrupt while a cell runs: tell the user it cannot be stopped, or restart llmspell after the grace period', 'notice')
    .option('--interrupt-grace <seconds>', 'with --interrupt restart: how long the cell may still finish', '5')
    .option('--startup-timeout <seconds>', 'how long llmspell may take to answer', '60')
    .option('--llmspell-provider <name>', 'write a minimal llmspell config for this built-in provider (openai, anthropic, gemini, ollama) from the environment\'s keys, for llmspell\'s --config; without its key llmspell runs with no provider and the first cell says what to set')
    .option('--llmspell-provider-config <file>', 'where --llmspell-provider writes it (default: beside --connection-file)')
    .option('--loopback-up', 'bring up the loopback interface first (run inside a new network namespace, e.g. under `unshare -rn`, where it starts down)')
    .option('--log-level <level>', 'adapter log level on stderr (the fleet passes info: its stderr is the backend log; alone, stderr may be your terminal)', 'warn')
    .argument('[llmspell-argv...]', `llmspell's argv; ${LLMSPELL_FILE_PLACEHOLDER} is replaced (default: ${DEFAULT_ARGV.join(' ')})`)
    .action(async (argv: string[], flags: AdapterFlags) => {
      await runAdapter(argv, flags);
    });
}

/** The provider's minimal llmspell config (0600: it names which key variable to read, never the key). */
async function writeProviderConfig(provider: string, file: string): Promise<{ file: string; notice?: string }> {
  const { toml, notice } = providerConfig(provider, process.env);
  await writeFileAtomic(file, toml);
  return { file, ...(notice !== undefined ? { notice } : {}) };
}

/** In a new network namespace only `lo` exists, and it is down: llmspell binds 127.0.0.1. */
async function bringUpLoopback(): Promise<void> {
  const ip = await findSystemExecutable('ip', process.env.PATH);
  if (ip === undefined) throw new Error('--loopback-up needs the ip command (iproute2); install it or set isolate = "off"');
  try {
    await runCommand(ip, ['link', 'set', 'lo', 'up'], { env: process.env, timeoutMs: 10_000 });
  } catch (error) {
    throw new Error(`cannot bring up the loopback interface (${describeError(error)}); set isolate = "off" for this runtime`);
  }
}

function positiveSeconds(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number of seconds, got "${value}"`);
  return n * 1000;
}

async function runAdapter(argvIn: string[], flags: AdapterFlags): Promise<void> {
  if (flags.transport !== 'tcp' && flags.transport !== 'ipc') throw new Error(`--transport must be tcp or ipc, got "${flags.transport}"`);
  if (flags.interrupt !== 'notice' && flags.interrupt !== 'restart') throw new Error(`--interrupt must be notice or restart, got "${flags.interrupt}"`);
  const interruptGraceMs = positiveSeconds(flags.interruptGrace, '--interrupt-grace');
  const startupTimeoutMs = positiveSeconds(flags.startupTimeout, '--startup-timeout');
  const logger = createLogger({ level: flags.logLevel, name: 'llmspell-adapter' });
  // llmspell writes its connection file (its key) with the default umask; ours keeps it 0600.
  process.umask(0o077);
  if (flags.loopbackUp) await bringUpLoopback();
  const llmspellFile = flags.llmspellConnectionFile ?? siblingPath(flags.connectionFile, 'llmspell.json');
  const template = argvIn.length > 0 ? argvIn : DEFAULT_ARGV;
  const argv = template.map((a) => a.split(LLMSPELL_FILE_PLACEHOLDER).join(llmspellFile));
  const client = await clientConnection(flags.connectionFile, flags.transport);
  const written = flags.llmspellProvider !== undefined ? await writeProviderConfig(flags.llmspellProvider, flags.llmspellProviderConfig ?? siblingPath(flags.connectionFile, 'llmspell.toml')) : undefined;
  if (written?.notice !== undefined) logger.warn({ provider: flags.llmspellProvider }, written.notice.trim());

  const llmspellLog = flags.llmspellLog ?? siblingPath(flags.connectionFile, 'llmspell.log');
  let exiting = false;
  const adapter = new LlmspellAdapter({
    connection: client.info,
    llmspell: {
      argv,
      env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
      connectionFile: llmspellFile,
      logFile: llmspellLog,
      startupTimeoutMs,
    },
    interrupt: flags.interrupt as InterruptPolicy,
    interruptGraceMs,
    logger,
    ...(written?.notice !== undefined ? { notice: written.notice } : {}),
    onStopped: (code) => {
      exiting = true;
      // zeromq would unlink its ipc sockets on close, but exit comes first: nothing of ours stays behind.
      const ours = [
        llmspellFile,
        ...(written !== undefined ? [written.file] : []),
        ...(client.info.transport === 'ipc' ? CHANNELS.map((c) => endpoint(client.info, c).slice('ipc://'.length)) : []),
        // What we wrote ourselves goes with us (as ipykernel does); a file Jupyter wrote is Jupyter's.
        ...(client.write ? [flags.connectionFile] : []),
        // A default log beside a Jupyter connection file would pile up in its runtime dir: kept only when something failed.
        ...(flags.llmspellLog === undefined && code === 0 ? [llmspellLog] : []),
      ];
      void Promise.all(ours.map((f) => unlink(f).catch(() => undefined))).finally(() => process.exit(code));
    },
  });
  // Ctrl-C in a terminal or jupyter_client's signal interrupt: an interrupt, never a kill of llmspell.
  process.on('SIGINT', () => adapter.interrupt());
  for (const signal of ['SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void adapter.stop(0));
  watchParent(process.env.JPY_PARENT_PID, () => void adapter.stop(0));
  await adapter.start();
  if (client.write && !exiting) await writeConnectionFile(flags.connectionFile, client.info);
  logger.info({ transport: client.info.transport, llmspellFile }, 'adapter serving');
}
