import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { loadFleetConfig } from '../../fleet/config.js';
import { cliEntry } from '../../fleet/manager/autostart.js';
import { ManagerClient } from '../../fleet/manager/client.js';
import { readHttpInfo } from '../../fleet/manager/http/http-file.js';
import type { ManagerInfo } from '../../fleet/manager/protocol.js';
import { describeError } from '../../shared/errors.js';
import { resolveHome } from '../fleet-args.js';
import { SERVICE_NAME, serviceEnvFilePath, systemdState, userUnit, userUnitPath, type IsActiveResult, type SystemdState } from '../service-unit.js';
import { action, CliError, withHomeOption, writeJson } from './fleet-shared.js';

type Env = Record<string, string | undefined>;

const USER_ONLY = 'only user units are written (--user): the manager runs as the user whose kernels it serves';
const ENABLE = `systemctl --user daemon-reload && systemctl --user enable --now ${SERVICE_NAME}`;

interface ServiceFlags {
  user?: boolean;
  home?: string;
  json?: boolean;
}

export function registerService(program: Command): void {
  const service = program
    .command('service')
    .description('run the fleet manager as a service: a systemd user unit (install, uninstall, status), and the health check containers use (check)');

  withHomeOption(service.command('install'))
    .description(`write the systemd user unit ${SERVICE_NAME} (under $XDG_CONFIG_HOME/systemd/user, else ~/.config/systemd/user) that runs \`manager --foreground\` with this node and this CLI`)
    .option('--user', 'a user unit (required: the only kind there is)')
    .action(action(async (flags: ServiceFlags) => install(flags)));

  service
    .command('uninstall')
    .description(`remove the systemd user unit ${SERVICE_NAME} and its enablement link; a manager that runs keeps running`)
    .option('--user', 'a user unit (required: the only kind there is)')
    .action(action(async (flags: ServiceFlags) => uninstall(flags)));

  withHomeOption(service.command('status'))
    .description('whether the unit is installed (and current), where, what `systemctl --user` says of it, and the commands to enable and start it; needs no running systemd')
    .option('--json', 'print JSON for scripts')
    .action(action(async (flags: ServiceFlags) => status(flags)));

  withHomeOption(service.command('check'))
    .description("exit 0 when this home's fleet manager answers on its socket and its HTTP API responds (never starts one): the container and compose health check")
    .action(action(async (flags: ServiceFlags) => check(flags)));
}

function requireUser(flags: ServiceFlags): void {
  if (flags.user !== true) throw new CliError(`pass --user: ${USER_ONLY}`);
}

function unitFor(home: string, env: Env): string {
  return userUnit({
    node: process.execPath,
    // The unbundled CLI, as the manager autostart uses: not a path relative to this module, which may be a chunk of the bundle.
    cli: cliEntry(),
    home,
    envFile: serviceEnvFilePath(env, homedir()),
    config: env.LLMSPELL_FLEET_CONFIG || undefined,
  });
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function install(flags: ServiceFlags): Promise<void> {
  requireUser(flags);
  const env = process.env;
  const home = resolveHome(flags.home, env);
  const path = userUnitPath(env, homedir());
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const before = await readOrUndefined(path);
  const unit = unitFor(home, env);
  await writeFile(path, unit, { mode: 0o600 });
  const verb = before === undefined ? 'wrote' : before === unit ? 'unchanged:' : 'updated';
  process.stdout.write(`${verb} ${path}\nenable and start it: ${ENABLE}\n`);
  process.stdout.write(`keep it running when you are logged out: loginctl enable-linger ${process.env.USER ?? '$USER'}\n`);
  process.stdout.write(`provider keys for the backends (optional): ${serviceEnvFilePath(env, homedir())}, mode 0600, lines NAME=value\n`);
  const idle = await idleSeconds(env);
  if (idle !== undefined && idle > 0) {
    process.stdout.write(
      `note: fleet.toml has manager_idle_seconds = ${idle}: an idle manager exits with success and systemd does not restart it (Restart=on-failure); set manager_idle_seconds = 0 for a service\n`,
    );
  }
}

async function idleSeconds(env: Env): Promise<number | undefined> {
  try {
    return (await loadFleetConfig({ env })).manager_idle_seconds;
  } catch {
    return undefined;
  }
}

async function uninstall(flags: ServiceFlags): Promise<void> {
  requireUser(flags);
  const path = userUnitPath(process.env, homedir());
  const existed = (await readOrUndefined(path)) !== undefined;
  // What `systemctl --user disable` removes, so no dangling link is left when systemd is not running.
  await rm(join(dirname(path), 'default.target.wants', SERVICE_NAME), { force: true });
  await rm(path, { force: true });
  process.stdout.write(existed ? `removed ${path}\n` : `not installed: no ${path}\n`);
  process.stdout.write(`a manager systemd started keeps running until stopped: systemctl --user stop ${SERVICE_NAME} && systemctl --user daemon-reload\n`);
}

function isActive(): Promise<IsActiveResult> {
  return new Promise((resolve) => {
    execFile('systemctl', ['--user', 'is-active', SERVICE_NAME], { timeout: 5000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : undefined;
      const spawnError = error !== null && typeof error.code === 'string' ? error.code : undefined;
      resolve({ code, stdout, stderr, spawnError });
    });
  });
}

function describeState(state: SystemdState): string {
  switch (state.kind) {
    case 'unit':
      return `systemd says: ${state.state}`;
    case 'no-systemctl':
      return 'systemd: no systemctl on this machine; the unit only matters where systemd runs';
    case 'no-user-manager':
      return `systemd: no user manager answers here (${state.detail}); the unit starts where one runs`;
  }
}

async function status(flags: ServiceFlags): Promise<void> {
  const env = process.env;
  const home = resolveHome(flags.home, env);
  const path = userUnitPath(env, homedir());
  const text = await readOrUndefined(path);
  const current = text === undefined ? undefined : text === unitFor(home, env);
  const systemd = systemdState(await isActive());
  if (flags.json === true) {
    writeJson({ unit: path, installed: text !== undefined, current: current ?? null, systemd, enable: ENABLE });
    return;
  }
  const lines = [
    text === undefined ? `not installed: ${path} does not exist (llmspell-fleet service install --user)` : `installed: ${path}`,
    ...(current === false ? ['it differs from what install writes now (another node, CLI or home): run llmspell-fleet service install --user again'] : []),
    describeState(systemd),
    `enable and start: ${ENABLE}`,
    `stop: systemctl --user stop ${SERVICE_NAME}; its log: journalctl --user -u ${SERVICE_NAME}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function check(flags: ServiceFlags): Promise<void> {
  const home = resolveHome(flags.home, process.env);
  const client = await ManagerClient.connect({ home, autostart: false, env: process.env });
  let info: ManagerInfo;
  try {
    info = await client.request<ManagerInfo>({ op: 'ping' });
  } finally {
    client.close();
  }
  const http = await readHttpInfo(home);
  if (http === undefined) {
    process.stdout.write(`manager answers (pid ${info.pid}); its HTTP API is off\n`);
    return;
  }
  let answered: number;
  try {
    // 503 is an answer too: the manager is up, one of its backends is not.
    const res = await fetch(`${http.url}/api/v1/health`, { headers: { authorization: `Bearer ${http.token}` }, signal: AbortSignal.timeout(5000) });
    answered = res.status;
    await res.body?.cancel();
  } catch (error) {
    throw new CliError(`the manager (pid ${info.pid}) answers on its socket but its HTTP API at ${http.url} does not: ${describeError(error)}`);
  }
  if (answered !== 200 && answered !== 503) throw new CliError(`the manager's HTTP API at ${http.url} answered ${answered} to /api/v1/health`);
  process.stdout.write(`manager answers (pid ${info.pid}); HTTP API ${http.url}: ${answered}\n`);
}
