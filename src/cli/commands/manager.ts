import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { restoreSetAsideEnv } from '../../fleet/manager/autostart.js';
import { ManagerClient } from '../../fleet/manager/client.js';
import { managerLogPath } from '../../fleet/manager/files.js';
import { FleetManager } from '../../fleet/manager/fleet.js';
import type { ManagerInfo } from '../../fleet/manager/protocol.js';
import { ManagerServer } from '../../fleet/manager/server.js';
import { loadFleetConfig } from '../../fleet/config.js';
import { defaultFleetConfig } from '../../fleet/defaults.js';
import type { HttpConfig } from '../../fleet/types.js';
import { describeError } from '../../shared/errors.js';
import { createLogger, type Logger } from '../../shared/log.js';
import { startupMark } from '../../shared/startup-trace.js';
import { envWithHome, resolveHome } from '../fleet-args.js';

interface ManagerFlags {
  foreground?: boolean;
  home?: string;
  logLevel?: string;
}

export function registerManager(program: Command): void {
  program
    .command('manager')
    .description(
      'make sure the fleet manager of this user runs (started in the background if needed; routers and fleet commands also start it on demand). ' +
        'SIGTERM, SIGINT and SIGHUP stop the manager but leave its backends running: the next manager adopts them. `llmspell-fleet stop-all` stops the backends. ' +
        'With no backend, no connected router or command and no request for manager_idle_seconds (fleet.toml, default 600; 0 = never), the manager exits by itself. ' +
        'It also serves an HTTP API and Prometheus /metrics on 127.0.0.1 ([http] in fleet.toml; `llmspell-fleet dashboard` prints the URL and token).',
    )
    .option('--foreground', 'run the manager in this process, logging to stderr, until a signal, the shutdown op or its idle exit (this is what the background start runs)')
    .option('--home <dir>', 'fleet home (manager socket, registry, logs); default $LLMSPELL_FLEET_HOME, else ~/.llmspell/fleet')
    .option('--log-level <level>', 'manager log level', 'info')
    .action(async (flags: ManagerFlags) => {
      startupMark('action');
      const home = resolveHome(flags.home, process.env);
      if (flags.foreground) await runForeground(home, flags.logLevel ?? 'info');
      else await ensureRunning(home);
    });
}

async function ensureRunning(home: string): Promise<void> {
  const client = await ManagerClient.connect({ home, autostart: true, env: envWithHome(process.env, home) });
  try {
    const info = await client.request<ManagerInfo>({ op: 'ping' });
    process.stdout.write(`fleet manager running: pid ${info.pid}, socket ${info.socket}, log ${managerLogPath(home)}\n`);
  } finally {
    client.close();
  }
}

/** [http] as fleet.toml says; a config that does not load yet still gets the default API (loopback). */
async function httpConfig(logger: Logger): Promise<HttpConfig> {
  try {
    return (await loadFleetConfig({ env: process.env })).http;
  } catch (error) {
    logger.warn({ err: describeError(error) }, 'fleet.toml unusable at start; the HTTP API uses its defaults');
    return defaultFleetConfig().http;
  }
}

async function runForeground(home: string, level: string): Promise<void> {
  // Backends inherit this process's environment; they must agree with us on the home.
  process.env.LLMSPELL_FLEET_HOME = home;
  restoreSetAsideEnv(process.env);
  const logger = createLogger({ level, destination: 2, name: 'llmspell-fleet-manager' });
  const fleet = new FleetManager({ home, env: process.env, logger });
  const started = await ManagerServer.start({ home, fleet, logger, http: await httpConfig(logger) });
  if (started.status === 'already-running') {
    // Not an error: whoever started us wanted a manager, and one runs.
    logger.info({ pid: started.pid, home }, 'a fleet manager already runs for this home; exiting');
    return;
  }
  const { server } = started;
  logger.info({ socket: server.socketPath }, 'fleet manager listening');
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      logger.info({ signal }, 'stopping the manager; backends keep running and are adopted by the next one');
      void server.close();
    });
  }
  // A manager whose home was deleted (a temp dir, an `rm -rf`) can never be reached again, and
  // no later manager could adopt its backends: stop them and exit instead of lingering forever.
  const orphanWatch = setInterval(() => {
    // An idle exit sets the socket file aside for a moment: that is not a deleted home.
    if (existsSync(server.socketPath) || server.socketSetAside) return;
    clearInterval(orphanWatch);
    logger.warn({ socket: server.socketPath }, 'manager socket is gone: stopping backends and exiting');
    void fleet.stopAll().finally(() => void server.close());
  }, 2000);
  orphanWatch.unref();
  await server.closed;
  clearInterval(orphanWatch);
  logger.info('fleet manager stopped');
  logger.flush();
  // Backend child handles would keep the event loop alive; they are meant to outlive us.
  process.exit(0);
}
