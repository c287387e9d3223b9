/**
 * The systemd user unit that runs the fleet manager as a service (`llmspell-fleet service
 * install --user`). Pure: the unit's text and where it goes, from paths the caller resolved.
 */
import { join } from 'node:path';

export const SERVICE_NAME = 'llmspell-fleet.service';

export interface UnitOptions {
  /** Absolute path of the node binary that runs the CLI. */
  node: string;
  /** Absolute path of the CLI's main.js. */
  cli: string;
  /** The fleet home the manager uses (pinned, so the unit never depends on the login's env). */
  home: string;
  /** Provider keys for the backends (optional; the unit starts without it). */
  envFile: string;
  /** $LLMSPELL_FLEET_CONFIG at install time, if set: the manager must read the same file. */
  config?: string | undefined;
}

type Env = Record<string, string | undefined>;

/** Pure: $XDG_CONFIG_HOME when it is absolute (a relative one is invalid, says the XDG spec), else ~/.config. */
export function configHome(env: Env, homeDir: string): string {
  const xdg = env.XDG_CONFIG_HOME;
  return xdg !== undefined && xdg.startsWith('/') ? xdg : join(homeDir, '.config');
}

/** Pure: where systemd looks for this user's units: <config home>/systemd/user/llmspell-fleet.service. */
export function userUnitPath(env: Env, homeDir: string): string {
  return join(configHome(env, homeDir), 'systemd', 'user', SERVICE_NAME);
}

/** Pure: the optional file of provider keys the unit reads: <config home>/llmspell-fleet/env. */
export function serviceEnvFilePath(env: Env, homeDir: string): string {
  return join(configHome(env, homeDir), 'llmspell-fleet', 'env');
}

/**
 * Pure: one word of a command line as systemd reads it. Words with nothing special stay bare;
 * others are double-quoted with `\` and `"` escaped. `%` (specifiers) and `$` (variables) are
 * doubled in every word, or systemd would expand them.
 */
export function systemdWord(word: string): string {
  const literal = word.replaceAll('%', '%%').replaceAll('$', '$$$$');
  if (/^[A-Za-z0-9_@%$+=:,./-]+$/.test(literal)) return literal;
  return `"${literal.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** Pure: an Environment= assignment, quoted as a whole ("NAME=value"), `%` doubled. */
export function systemdAssignment(name: string, value: string): string {
  const literal = `${name}=${value}`.replaceAll('%', '%%');
  return `"${literal.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/**
 * Pure: the unit's text. No secrets: provider keys go in the optional EnvironmentFile, which the
 * user writes (0600) and the unit only names.
 */
export function userUnit(options: UnitOptions): string {
  const exec = [options.node, options.cli, 'manager', '--foreground', '--home', options.home].map(systemdWord).join(' ');
  const env = [systemdAssignment('LLMSPELL_FLEET_HOME', options.home)];
  if (options.config !== undefined) env.push(systemdAssignment('LLMSPELL_FLEET_CONFIG', options.config));
  return [
    '# Written by `llmspell-fleet service install --user`; `llmspell-fleet service uninstall --user` removes it.',
    '[Unit]',
    'Description=llmspell-fleet manager (Jupyter backend kernels for this user)',
    '',
    '[Service]',
    'Type=exec',
    `ExecStart=${exec}`,
    ...env.map((e) => `Environment=${e}`),
    // Provider API keys (OPENAI_API_KEY=...) for the backends: a file the user keeps at 0600.
    `EnvironmentFile=-${options.envFile.replaceAll('%', '%%')}`,
    'Restart=on-failure',
    'RestartSec=2s',
    // The manager leaves its backends running when it stops and the next one adopts them
    // (`llmspell-fleet stop-all` stops them): a restart must not kill the whole cgroup.
    'KillMode=process',
    'TimeoutStopSec=15s',
    // Hardening that needs no privileges, so it holds in a user unit too. Not MemoryDenyWriteExecute
    // (V8 writes its JIT code), not RestrictNamespaces (the llmspell adapter unshares the network),
    // not PrivateTmp/ProtectSystem (mount namespaces a user manager may not have).
    'NoNewPrivileges=yes',
    'UMask=0077',
    'LockPersonality=yes',
    'RestrictRealtime=yes',
    'RestrictSUIDSGID=yes',
    'SystemCallArchitectures=native',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

/** What `systemctl --user is-active` said, as the caller saw it. */
export interface IsActiveResult {
  /** Exit code; undefined when systemctl could not be run at all. */
  code: number | undefined;
  stdout: string;
  stderr: string;
  /** The spawn error's code (ENOENT: no systemctl), when it could not be run. */
  spawnError?: string | undefined;
}

export type SystemdState =
  | { kind: 'unit'; state: string }
  | { kind: 'no-systemctl' }
  | { kind: 'no-user-manager'; detail: string };

/**
 * Pure: `is-active`'s answer → the unit's state, or why there is none. A machine without a
 * running systemd user manager (a container, a login without one) says so on stderr ("Failed to
 * connect to bus", "No medium found") with an empty stdout; that is not a unit state.
 */
export function systemdState(result: IsActiveResult): SystemdState {
  if (result.spawnError !== undefined || result.code === undefined) return { kind: 'no-systemctl' };
  const state = result.stdout.trim().split('\n')[0]?.trim() ?? '';
  if (state.length > 0) return { kind: 'unit', state };
  const detail = result.stderr.trim().split('\n')[0]?.trim() ?? '';
  return { kind: 'no-user-manager', detail: detail.length > 0 ? detail : `systemctl exited with ${result.code}` };
}
