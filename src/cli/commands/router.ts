import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadFleetConfig } from '../../fleet/config.js';
import { defaultFleetConfig } from '../../fleet/defaults.js';
import type { RouterLimits } from '../../fleet/types.js';
import { FleetDirectory } from '../../fleet/fleet-directory.js';
import { notebookPathFromEnv, readNotebookRequirement } from '../../fleet/notebook.js';
import { ensurePrivateDir, fleetHome, logDir } from '../../fleet/paths.js';
import { loadProjectRequirement } from '../../fleet/project-file.js';
import { checkRequirement, launchLayers, resolveRequirement, type ResolveInput } from '../../fleet/resolve.js';
import { ProxyRouter, type RequestResolver } from '../../router/proxy.js';
import { DEFAULT_RESTART_POLICY } from '../../router/restart-policy.js';
import type { BackendDirectory } from '../../router/types.js';
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { startupMark, writeStartupTrace } from '../../shared/startup-trace.js';
import { readConnectionFile, type ConnectionInfo } from '../../wire/connection-file.js';
import { watchParent } from '../parent-watch.js';
import { createRequestResolver } from '../request-resolver.js';
import { routerLogger } from '../router-log.js';

interface RouterFlags {
  connectionFile: string;
  specDir?: string;
  runtime?: string;
  provider?: string;
  local?: boolean;
  logLevel?: string;
}

export function registerRouter(program: Command): void {
  program
    .command('router')
    .description('run as the Jupyter kernel: bind the sockets in the connection file and relay them to the backend each request asks for (what kernel.json runs)')
    .requiredOption('--connection-file <file>', 'connection file written by Jupyter ({connection_file})')
    .option('--spec-dir <dir>', "the kernelspec's directory ({resource_dir}); its metadata.llmspell may pin runtime/provider")
    .option('--runtime <name>', 'backend runtime (lua, javascript, python, ...); see README "Which backend a request goes to"')
    .option('--provider <name>', 'LLM provider (openai, anthropic, ollama, ...)')
    .option('--local', 'start a private backend that stops with this router instead of sharing the fleet (also LLMSPELL_FLEET_MODE=local)')
    .option('--log-level <level>', 'router log level; the JSON log goes to $LLMSPELL_FLEET_HOME/logs/router-<pid>.log, stderr gets one human line per distinct problem', 'info')
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

interface Plan {
  directory: BackendDirectory;
  limits: RouterLimits;
  requirement: { runtime: string; provider: string };
  resolver?: RequestResolver;
}

/**
 * Launch-time resolution. Config and resolution errors must not kill the kernel before the
 * client connects (it would only see "kernel died"): the router starts and answers with the reason.
 */
async function plan(flags: RouterFlags, connection: ConnectionInfo, home: string, logger: Logger): Promise<Plan> {
  const env = process.env;
  try {
    // The four reads are independent: started together, awaited in this order, so the error
    // reported when several files are bad stays the same as when they were read one by one.
    const notebookPath = notebookPathFromEnv({ env, connectionInfo: connection });
    const reads = {
      config: loadFleetConfig({ env }),
      notebook: notebookPath ? readNotebookRequirement(notebookPath).then((n) => ({ path: notebookPath, ...n })) : Promise.resolve(undefined),
      project: loadProjectRequirement(process.cwd(), { stopAt: homedir() }),
      spec: specMetadata(flags.specDir),
    };
    for (const read of Object.values(reads)) read.catch(() => undefined);
    const config = await reads.config;
    const notebook = await reads.notebook;
    const project = await reads.project;
    const input: ResolveInput = { flags, env, specMetadata: await reads.spec, notebook, project, config };
    const resolved = resolveRequirement(input);
    checkRequirement(resolved, config);
    logger.info({ requirement: resolved, sources: resolved.sources, config: config.source ?? 'built-in defaults' }, 'launch requirement');
    const local = flags.local === true || env.LLMSPELL_FLEET_MODE === 'local';
    // Imported only when used: a router of the fleet loads nothing that spawns backends.
    const directory = local
      ? new (await import('../../fleet/local-directory.js')).LocalBackendDirectory({ config, home, logger, env })
      : new FleetDirectory({ home, env, logger });
    return { directory, limits: config.router, requirement: resolved, resolver: createRequestResolver({ launch: launchLayers(input), config }) };
  } catch (error) {
    logger.error({ err: describeError(error) }, 'cannot plan a backend');
    return {
      directory: new (await import('../../fleet/local-directory.js')).UnavailableDirectory(error as Error),
      limits: defaultFleetConfig().router,
      requirement: { runtime: flags.runtime ?? 'unknown', provider: flags.provider ?? 'unknown' },
    };
  }
}

async function runRouter(flags: RouterFlags): Promise<void> {
  startupMark('action');
  const home = await ensurePrivateDir(fleetHome(process.env));
  await ensurePrivateDir(logDir(home));
  const logger = routerLogger({ file: join(logDir(home), `router-${process.pid}.log`), level: flags.logLevel ?? 'info' });
  const connection = await readConnectionFile(flags.connectionFile);
  const { directory, requirement, resolver, limits } = await plan(flags, connection, home, logger);
  startupMark('planned');

  const router = new ProxyRouter({
    connection,
    directory,
    requirement,
    resolver,
    logger,
    maxMessageBytes: Math.floor(limits.max_message_mb * 1024 * 1024),
    heartbeatTimeoutMs: limits.heartbeat_timeout_seconds * 1000,
    restartPolicy: { ...DEFAULT_RESTART_POLICY, limit: limits.restart_limit },
    onStopped: (code) => {
      void (directory as { close?: () => Promise<void> }).close?.();
      logger.flush?.();
      process.exit(code);
    },
  });
  try {
    await router.start();
  } catch (error) {
    // stderr goes to the client's terminal (often nowhere); the log is where people look later.
    // The router's logger also says it on stderr, with the log's path, so it is not thrown on
    // to the CLI's catch-all, which would say it again.
    logger.error({ err: describeError(error) }, 'router could not start');
    logger.flush?.();
    process.exit(1);
  }
  startupMark('listening');
  void router.defaultSlot?.settled.then(writeStartupTrace);
  logger.info({ pid: process.pid, connectionFile: flags.connectionFile }, 'router listening');

  // SIGTERM is all VS Code sends; SIGHUP comes with a closed terminal. Both mean "stop cleanly".
  process.on('SIGTERM', () => void router.stop(0, 'SIGTERM'));
  process.on('SIGHUP', () => void router.stop(0, 'SIGHUP'));
  // Jupyter interrupts a "signal" kernel with SIGINT to its group: pass it on in each backend's own mode.
  process.on('SIGINT', () => router.interrupt());
  watchParent(process.env.JPY_PARENT_PID, () => void router.stop(0, 'parent process exited'));
}
