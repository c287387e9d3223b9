import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadFleetConfig } from '../../fleet/config.js';
import { LocalBackendDirectory, UnavailableDirectory } from '../../fleet/local-directory.js';
import { ensurePrivateDir, fleetHome, logDir } from '../../fleet/paths.js';
import { checkRequirement, resolveRequirement } from '../../fleet/resolve.js';
import { ProxyRouter } from '../../router/proxy.js';
import type { BackendDirectory } from '../../router/types.js';
import { describeError } from '../../shared/errors.js';
import { readConnectionFile } from '../../wire/connection-file.js';
import { routerLogger } from '../router-log.js';
import { watchParent } from '../parent-watch.js';

interface RouterFlags {
  connectionFile: string;
  specDir?: string;
  runtime?: string;
  provider?: string;
  logLevel?: string;
}

export function registerRouter(program: Command): void {
  program
    .command('router')
    .description('run as the Jupyter kernel: bind the sockets in the connection file and relay them to a backend kernel (what kernel.json runs)')
    .requiredOption('--connection-file <file>', 'connection file written by Jupyter ({connection_file})')
    .option('--spec-dir <dir>', "the kernelspec's directory ({resource_dir}); its metadata.llmspell may pin runtime/provider")
    .option('--runtime <name>', 'backend runtime (lua, javascript, python, ...); default: $LLMSPELL_RUNTIME, then the config')
    .option('--provider <name>', 'LLM provider (openai, anthropic, ollama, ...); default: $LLMSPELL_PROVIDER, then the config')
    .option('--log-level <level>', 'router log level (file log in $LLMSPELL_FLEET_HOME/logs)', 'info')
    .action(async (flags: RouterFlags) => {
      await runRouter(flags);
    });
}

async function specMetadata(specDir: string | undefined): Promise<{ runtime?: unknown; provider?: unknown } | undefined> {
  if (!specDir) return undefined;
  try {
    const spec = JSON.parse(await readFile(join(specDir, 'kernel.json'), 'utf8')) as { metadata?: { llmspell?: object } };
    return spec.metadata?.llmspell as { runtime?: unknown; provider?: unknown } | undefined;
  } catch {
    return undefined;
  }
}

async function runRouter(flags: RouterFlags): Promise<void> {
  const env = process.env;
  const home = await ensurePrivateDir(fleetHome(env));
  await ensurePrivateDir(logDir(home));
  const logger = routerLogger({ file: join(logDir(home), `router-${process.pid}.log`), level: flags.logLevel ?? 'info' });
  const connection = await readConnectionFile(flags.connectionFile);

  // Config and resolution errors must not kill the kernel before the client connects: the
  // client would only see "kernel died". Instead the router starts and answers with the reason.
  let directory: BackendDirectory;
  let requirement = { runtime: flags.runtime ?? 'unknown', provider: flags.provider ?? 'unknown' };
  try {
    const config = await loadFleetConfig({ env });
    const resolved = resolveRequirement({ flags, env, specMetadata: await specMetadata(flags.specDir), config });
    checkRequirement(resolved, config);
    requirement = resolved;
    logger.info({ requirement: resolved, sources: resolved.sources, config: config.source ?? 'built-in defaults' }, 'backend requirement');
    directory = new LocalBackendDirectory({ config, home, logger, env });
  } catch (error) {
    logger.error({ err: describeError(error) }, 'cannot plan a backend');
    directory = new UnavailableDirectory(error as Error);
  }

  const router = new ProxyRouter({
    connection,
    directory,
    requirement,
    logger,
    onStopped: (code) => {
      logger.flush?.();
      process.exit(code);
    },
  });
  await router.start();
  logger.info({ pid: process.pid, connectionFile: flags.connectionFile }, 'router listening');

  // SIGTERM is all VS Code sends; SIGHUP comes with a closed terminal. Both mean "stop cleanly".
  process.on('SIGTERM', () => void router.stop(0, 'SIGTERM'));
  process.on('SIGHUP', () => void router.stop(0, 'SIGHUP'));
  // Jupyter interrupts a "signal" kernel with SIGINT to its group: pass it on in the backend's own mode.
  process.on('SIGINT', () => router.interrupt());
  watchParent(env.JPY_PARENT_PID, () => void router.stop(0, 'parent process exited'));
}
