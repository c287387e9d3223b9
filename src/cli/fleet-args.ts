/**
 * Pure argument checks for the fleet commands. Commander calls the parse* functions on raw
 * option strings; they throw InvalidArgumentError, which commander reports as
 * "error: option '--lines <n>' argument 'abc' is invalid. <our message>" with exit code 1.
 */
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type * as Commander from 'commander';
import { expandHome, fleetHome } from '../fleet/paths.js';
import { isSafeName } from '../shared/names.js';

// Required like program.ts's commander, so that one copy is loaded, bundled or not (scripts/bundle.mjs).
const { InvalidArgumentError } = createRequire(import.meta.url)('commander') as typeof Commander;

type Env = Record<string, string | undefined>;

/** --lines N: a whole number >= 0 (0 prints nothing before --follow starts). */
export function parseLineCount(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number of lines, e.g. --lines 50');
  return Number(value.trim());
}

/** --group G: the same rule as runtime and provider names, since it ends up in ids and file names. */
export function parseGroup(value: string): string {
  if (!isSafeName(value)) {
    throw new InvalidArgumentError('use letters, digits, "_", "-", "." and start with a letter or digit');
  }
  return value;
}

export type StopTarget = { kind: 'port'; port: number } | { kind: 'id'; id: string };

/**
 * What `stop ID|PORT` names. All digits means a port (kernel ids always start with the
 * runtime's name, so "12345" is never an id); anything else is a kernel id.
 */
export function parseStopTarget(value: string): StopTarget {
  const v = value.trim();
  if (v.length === 0) throw new InvalidArgumentError('name a backend by its id or one of its ports (see `llmspell-fleet list`)');
  if (/^\d+$/.test(v)) {
    const port = Number(v);
    if (port < 1 || port > 65535) throw new InvalidArgumentError(`${v} is not a port number (1-65535) nor a backend id`);
    return { kind: 'port', port };
  }
  return { kind: 'id', id: v };
}

/** The target as the manager's `stop` op takes it. */
export function targetString(target: StopTarget): string {
  return target.kind === 'port' ? String(target.port) : target.id;
}

/** --home DIR wins over $LLMSPELL_FLEET_HOME; "~" is expanded with the env's HOME. */
export function resolveHome(option: string | undefined, env: Env): string {
  if (option === undefined || option.length === 0) return fleetHome(env);
  return resolve(expandHome(option, env.HOME || undefined));
}

/**
 * The environment for everything the command starts (the manager when autostarted, and
 * through it the backends): the caller's, with the chosen home pinned so both agree on it.
 */
export function envWithHome(env: Env, home: string): Record<string, string | undefined> {
  return { ...env, LLMSPELL_FLEET_HOME: home };
}
