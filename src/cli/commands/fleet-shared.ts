/**
 * What every fleet command shares: the --home/--json options, connecting to the manager (and
 * always closing the connection), resolving a requirement from flags, and one-line errors.
 */
import type { Command } from 'commander';
import { loadFleetConfig } from '../../fleet/config.js';
import { ManagerClient } from '../../fleet/manager/client.js';
import { argvLayer, checkRequirement, configLayer, envLayer, resolveRequirement } from '../../fleet/resolve.js';
import type { Requirement } from '../../shared/requirement.js';
import { describeError, isFleetError } from '../../shared/errors.js';
import { envWithHome, resolveHome } from '../fleet-args.js';

type Env = Record<string, string | undefined>;

/** A failure the user can fix, reported as one line without a stack. */
export class CliError extends Error {
  override readonly name = 'CliError';
}

export interface CommonFlags {
  home?: string;
  json?: boolean;
}

export interface FleetContext {
  home: string;
  /** process.env with LLMSPELL_FLEET_HOME pinned to `home`. */
  env: Env;
  json: boolean;
}

export function withHomeOption(cmd: Command): Command {
  return cmd.option('--home <dir>', 'fleet home (manager socket, registry, logs); default $LLMSPELL_FLEET_HOME, else ~/.llmspell/fleet');
}

export function withCommonOptions(cmd: Command): Command {
  return withHomeOption(cmd).option('--json', 'print JSON for scripts instead of a table');
}

export function fleetContext(flags: CommonFlags, env: Env = process.env): FleetContext {
  const home = resolveHome(flags.home, env);
  return { home, env: envWithHome(env, home), json: flags.json === true };
}

/** Connect, run `fn`, close. `autostart: false` fails fast when no manager runs. */
export async function withManager<T>(
  ctx: FleetContext,
  fn: (client: ManagerClient) => Promise<T>,
  options: { autostart?: boolean } = {},
): Promise<T> {
  const client = await ManagerClient.connect({ home: ctx.home, autostart: options.autostart ?? true, env: ctx.env });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/**
 * runtime/provider from flags, else $LLMSPELL_RUNTIME/$LLMSPELL_PROVIDER, else the config's
 * defaults (as the router resolves them); unknown names fail here with the config's list.
 */
export async function requirementFrom(
  flags: { runtime?: string; provider?: string; group?: string },
  ctx: FleetContext,
): Promise<Requirement> {
  const config = await loadFleetConfig({ env: ctx.env });
  const resolved = resolveRequirement({ flags, env: ctx.env, config }, [argvLayer, envLayer, configLayer]);
  checkRequirement(resolved, config);
  return { runtime: resolved.runtime, provider: resolved.provider, ...(flags.group !== undefined ? { group: flags.group } : {}) };
}

export function writeJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Errors the user can act on (ours, the manager's, system calls') get one line; bugs go up with their stack. */
function isReportable(error: unknown): boolean {
  if (isFleetError(error) || error instanceof CliError) return true;
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

function reportError(error: unknown): void {
  if (!isReportable(error)) throw error;
  process.stderr.write(`llmspell-fleet: ${describeError(error)}\n`);
  process.exitCode = 1;
}

/** Wraps a command action so reportable failures end in one stderr line and exit code 1. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      reportError(error);
    }
  };
}
