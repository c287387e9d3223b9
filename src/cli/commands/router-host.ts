import { openSync, realpathSync } from 'node:fs';
import type { Command } from 'commander';
import { loadFleetConfig } from '../../fleet/config.js';
import { DEFAULT_HOST_LINGER_SECONDS } from '../../fleet/defaults.js';
import { ensurePrivateDir, fleetHome, logDir } from '../../fleet/paths.js';
import { describeError } from '../../shared/errors.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { routerHostLogPath } from '../router-host/files.js';
import { RouterHost } from '../router-host/host.js';

interface RouterHostFlags {
  logLevel?: string;
}

export function registerRouterHost(program: Command): void {
  program
    .command('router-host')
    .description(
      "run the user's shared router host: one process that relays for every notebook whose kernel stub (the shared-mode kernelspec) connects on " +
        'router-host.sock in the fleet home ($LLMSPELL_FLEET_HOME, default ~/.llmspell/fleet), one router session each. Started on demand by the stubs; one per fleet home. ' +
        'With no session for [router] host_linger_seconds (fleet.toml, default 30; 0 = when the last one ends) it exits by itself; ' +
        'SIGTERM, SIGINT and SIGHUP end every session (their kernels exit) and then the host. Its log: logs/router-host.log in the fleet home',
    )
    .option('--log-level <level>', 'router host log level (each session logs to logs/router-<kernel pid>.log as a standalone router does)', 'info')
    .action(async (flags: RouterHostFlags) => {
      await runRouterHost(flags.logLevel ?? 'info');
    });
}

/** [router] host_linger_seconds as fleet.toml says; a config that does not load yet leaves the default (each session reports it). */
async function lingerSeconds(logger: Logger): Promise<number> {
  try {
    return (await loadFleetConfig({ env: process.env })).router.host_linger_seconds;
  } catch (error) {
    logger.warn({ err: describeError(error) }, `fleet.toml unusable at start; the router host lingers the default ${DEFAULT_HOST_LINGER_SECONDS} s`);
    return DEFAULT_HOST_LINGER_SECONDS;
  }
}

async function runRouterHost(level: string): Promise<void> {
  const home = await ensurePrivateDir(fleetHome(process.env));
  await ensurePrivateDir(logDir(home));
  const logger = createLogger({ level, destination: openSync(routerHostLogPath(home), 'a', 0o600), name: 'llmspell-fleet-router-host' });
  const install = { node: realpathSync(process.execPath), entry: realpathSync(process.argv[1]!) };
  const started = await RouterHost.start({ home, install, lingerMs: (await lingerSeconds(logger)) * 1000, logger });
  if (started.status === 'already-running') {
    // Not an error: whoever started us wanted a host, and one serves.
    logger.info({ home }, 'a router host already serves this home; exiting');
    return;
  }
  const { host } = started;
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => host.close(signal));
  // A standalone router would die of it alone; here it would end every notebook's session.
  process.on('unhandledRejection', (reason) => logger.error({ err: describeError(reason) }, 'unhandled rejection in the router host; it goes on'));
  // Its stderr is /dev/null (the stub that started it may be long gone): the log is the only place a crash can be read.
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: describeError(error) }, 'uncaught exception: the router host exits, and every session with it');
    logger.flush();
    process.exit(1);
  });
  await host.closed;
  logger.info('router host stopped');
  logger.flush();
  // Sessions' sockets and timers are closed, but a manager connection's last write may still hold the loop.
  process.exit(0);
}
