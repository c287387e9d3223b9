import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { FleetError } from '../shared/errors.js';
import { check, describeValue, keyPath } from '../shared/schema.js';
import { FleetFileSchema } from './config-schema.js';
import { defaultFleetConfig } from './defaults.js';
import { configPath } from './paths.js';
import { configError, parseToml } from './toml.js';
import type { FleetConfig, ProviderConfig } from './types.js';

/**
 * Throws BAD_CONFIG naming the file, the line when it can be found, and the key path, so the
 * user knows exactly what to edit: `fleet.toml:7: runtimes.lua.startup_timeout must be ...`.
 */
function fail(text: string, source: string, path: Array<string | number>, message: string): never {
  throw configError(text, source, path, `${keyPath(path)} ${message}`);
}

/** Relative paths mean "next to fleet.toml"; "~" is expanded at launch, with the launch env's HOME. */
function placeProvider(provider: ProviderConfig, source: string): ProviderConfig {
  const file = provider.config;
  if (file === undefined || isAbsolute(file) || file.startsWith('~') || !isAbsolute(source)) return provider;
  return { ...provider, config: resolve(dirname(source), file) };
}

/** Validate one fleet.toml and merge it over the built-in defaults. Pure: no file access. */
export function parseFleetConfig(text: string, source: string): FleetConfig {
  const checked = check(FleetFileSchema, parseToml(text, source));
  if (!checked.ok) fail(text, source, checked.problem.path, checked.problem.message);
  const file = checked.value;
  const config = defaultFleetConfig();
  config.source = source;
  if (file.default_runtime !== undefined) config.default_runtime = file.default_runtime;
  if (file.default_provider !== undefined) config.default_provider = file.default_provider;
  if (file.linger_seconds !== undefined) config.linger_seconds = file.linger_seconds;
  if (file.manager_idle_seconds !== undefined) config.manager_idle_seconds = file.manager_idle_seconds;
  if (file.max_backends !== undefined) config.max_backends = file.max_backends;
  if (file.pool_max_mb !== undefined) config.pool_max_mb = file.pool_max_mb;
  for (const [key, entry] of Object.entries(file.pool ?? {})) config.pool[key] = typeof entry === 'number' ? { count: entry } : entry;
  // Keys left out keep their defaults: the schema's output has only the keys the file sets.
  config.router = { ...config.router, ...file.router };
  config.replay = { ...config.replay, ...file.replay };
  config.http = { ...config.http, ...file.http };
  // A user table replaces the default of the same name wholesale: merging keys could mix a
  // kernelspec default with a user argv, which is never what was meant.
  Object.assign(config.runtimes, file.runtimes);
  for (const [name, provider] of Object.entries(file.providers ?? {})) config.providers[name] = placeProvider(provider, source);
  for (const [key, kind, defined] of [
    ['default_runtime', 'runtime', config.runtimes],
    ['default_provider', 'provider', config.providers],
  ] as const) {
    const name = config[key];
    if (!Object.hasOwn(defined, name)) {
      const what = `must name a defined ${kind} (${Object.keys(defined).join(', ')}) or one you add as [${kind}s.NAME]`;
      fail(text, source, [key], `${what} (got ${describeValue(name)})`);
    }
  }
  // Only now are the user's runtimes and providers known.
  for (const key of Object.keys(config.pool)) {
    const [runtime = '', provider = ''] = key.split('/');
    for (const [name, kind, defined] of [
      [runtime, 'runtime', config.runtimes],
      [provider, 'provider', config.providers],
    ] as const) {
      if (!Object.hasOwn(defined, name)) fail(text, source, ['pool', key], `names an unknown ${kind} "${name}"; defined: ${Object.keys(defined).join(', ')}`);
    }
  }
  return config;
}

export interface LoadConfigOptions {
  /** An explicit file (e.g. from --config): it must exist. */
  path?: string;
  env?: Record<string, string | undefined>;
}

/**
 * Read the fleet config. No file at the default location means built-in defaults; a file the
 * user named (option or $LLMSPELL_FLEET_CONFIG) must exist, since a typo there would otherwise
 * silently run with defaults.
 */
export async function loadFleetConfig(options: LoadConfigOptions = {}): Promise<FleetConfig> {
  const env = options.env ?? process.env;
  const explicit = options.path !== undefined || Boolean(env.LLMSPELL_FLEET_CONFIG);
  const file = options.path !== undefined ? resolve(options.path) : configPath(env);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return defaultFleetConfig();
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be read (${(cause as Error).message})`;
    const fix = options.path !== undefined ? 'pass an existing file' : 'fix or unset LLMSPELL_FLEET_CONFIG';
    throw new FleetError('BAD_CONFIG', `config file ${file} ${why}: ${fix}`, { source: file }, { cause });
  }
  return parseFleetConfig(text, file);
}
