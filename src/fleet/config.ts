import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import { FleetError } from '../shared/errors.js';
import { SAFE_NAME as NAME } from '../shared/names.js';
import { defaultFleetConfig } from './defaults.js';
import { configPath } from './paths.js';
import { unknownPlaceholders } from './template.js';
import type { FleetConfig, ProviderConfig, RouterLimits, RuntimeConfig } from './types.js';

type Table = Record<string, unknown>;

const TOP_KEYS = ['default_runtime', 'default_provider', 'linger_seconds', 'router', 'runtimes', 'providers'];
const ROUTER_KEYS = ['max_message_mb', 'restart_limit', 'heartbeat_timeout_seconds'];
const RUNTIME_KEYS = ['kernelspec', 'argv', 'connection', 'language', 'interrupt_mode', 'env', 'startup_timeout', 'adapter', 'interrupt', 'interrupt_grace_seconds', 'isolate'];
const PROVIDER_KEYS = ['config', 'env', 'profile'];
// Names end up in kernel ids and file names, so they must be safe path components.
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws BAD_CONFIG naming the file and the key path, so the user knows exactly what to edit. */
const NONE = Symbol('none');
function fail(source: string, key: string, what: string, got: unknown = NONE): never {
  const suffix = got === NONE ? '' : ` (got ${describe(got)})`;
  throw new FleetError('BAD_CONFIG', `${source}: ${key} ${what}${suffix}`, { source, key });
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  if (typeof v === 'object' && v !== null) return 'a table';
  return JSON.stringify(v);
}

function isTable(v: unknown): v is Table {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function onlyKeys(source: string, path: string, table: Table, allowed: string[]): void {
  for (const key of Object.keys(table)) {
    if (!allowed.includes(key)) {
      const at = path ? `${path}.${key}` : key;
      fail(source, at, `is not a known key; allowed here: ${allowed.join(', ')}`);
    }
  }
}

function str(source: string, key: string, v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) fail(source, key, 'must be a non-empty string', v);
  return v;
}

function oneOf<T extends string>(source: string, key: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(source, key, `must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`, v);
  }
  return v as T;
}

function num(source: string, key: string, v: unknown, min: number, exclusive: boolean): number {
  const ok = typeof v === 'number' && Number.isFinite(v) && (exclusive ? v > min : v >= min);
  if (!ok) fail(source, key, `must be a number ${exclusive ? '>' : '>='} ${min}`, v);
  return v as number;
}

function envTable(source: string, key: string, v: unknown): Record<string, string> {
  if (!isTable(v)) fail(source, key, 'must be a table of NAME = "value" strings', v);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(v)) {
    if (!ENV_NAME.test(name)) fail(source, `${key}.${name}`, 'is not a valid environment variable name (letters, digits, _)');
    // Never echo the value: provider env holds API keys.
    if (typeof value !== 'string') fail(source, `${key}.${name}`, `must be a string (quote it), not ${typeof value}`);
    out[name] = value;
  }
  return out;
}

function namedTables(source: string, key: string, v: unknown): Array<[string, Table]> {
  if (!isTable(v)) fail(source, key, 'must be a table of named tables, e.g. [' + key + '.NAME]', v);
  return Object.entries(v).map(([name, body]) => {
    if (!NAME.test(name)) fail(source, `${key}.${name}`, 'has a bad name: use letters, digits, "_", "-", "." and start with a letter or digit');
    if (!isTable(body)) fail(source, `${key}.${name}`, 'must be a table', body);
    return [name, body];
  });
}

function parseRuntime(source: string, name: string, t: Table): RuntimeConfig {
  const at = `runtimes.${name}`;
  onlyKeys(source, at, t, RUNTIME_KEYS);
  if ((t.kernelspec === undefined) === (t.argv === undefined)) {
    fail(source, at, 'must set exactly one of kernelspec (an installed Jupyter kernel) or argv (a command template)');
  }
  const rt: RuntimeConfig = {};
  if (t.kernelspec !== undefined) {
    rt.kernelspec = str(source, `${at}.kernelspec`, t.kernelspec);
    if (!NAME.test(rt.kernelspec)) fail(source, `${at}.kernelspec`, 'must be a kernelspec name as `jupyter kernelspec list` shows it', t.kernelspec);
  }
  if (t.argv !== undefined) rt.argv = parseArgv(source, `${at}.argv`, t.argv);
  if (t.connection !== undefined) {
    rt.connection = oneOf(source, `${at}.connection`, t.connection, ['router-writes', 'kernel-writes'] as const);
    // A kernelspec kernel is handed a connection file by contract; it never writes one.
    if (rt.kernelspec !== undefined && rt.connection === 'kernel-writes') {
      fail(source, `${at}.connection`, 'must be "router-writes" for a kernelspec runtime (Jupyter kernels read the file they are given)');
    }
  }
  if (t.language !== undefined) rt.language = str(source, `${at}.language`, t.language);
  if (t.interrupt_mode !== undefined) {
    rt.interrupt_mode = oneOf(source, `${at}.interrupt_mode`, t.interrupt_mode, ['signal', 'message'] as const);
  }
  if (t.env !== undefined) rt.env = envTable(source, `${at}.env`, t.env);
  if (t.startup_timeout !== undefined) rt.startup_timeout = num(source, `${at}.startup_timeout`, t.startup_timeout, 0, true);
  if (t.adapter !== undefined) {
    rt.adapter = oneOf(source, `${at}.adapter`, t.adapter, ['llmspell', 'none'] as const);
    if (rt.kernelspec !== undefined && rt.adapter === 'llmspell') fail(source, `${at}.adapter`, 'needs an argv runtime (the adapter starts llmspell from argv), not a kernelspec');
  }
  if (t.interrupt !== undefined) rt.interrupt = oneOf(source, `${at}.interrupt`, t.interrupt, ['notice', 'restart'] as const);
  if (t.interrupt_grace_seconds !== undefined) rt.interrupt_grace_seconds = num(source, `${at}.interrupt_grace_seconds`, t.interrupt_grace_seconds, 0, true);
  if (t.isolate !== undefined) rt.isolate = oneOf(source, `${at}.isolate`, t.isolate, ['auto', 'on', 'off'] as const);
  return rt;
}

function parseArgv(source: string, key: string, v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) fail(source, key, 'must be a non-empty array of strings', v);
  v.forEach((el, i) => {
    if (typeof el !== 'string') fail(source, `${key}[${i}]`, 'must be a string', el);
  });
  const argv = v as string[];
  if (argv[0] === '') fail(source, `${key}[0]`, 'must name the program to run');
  const unknown = unknownPlaceholders(argv)[0];
  if (unknown) {
    fail(source, `${key}[${unknown.index}]`, `uses unknown placeholder {${unknown.name}}; known: {connection_file} {kernel_id} {runtime} {provider} {config} {resource_dir}`);
  }
  if (!argv.some((el) => el.includes('{connection_file}'))) {
    fail(source, key, 'must contain {connection_file}, so the backend and the router agree on where the connection file is');
  }
  return [...argv];
}

function parseProvider(source: string, name: string, t: Table): ProviderConfig {
  const at = `providers.${name}`;
  onlyKeys(source, at, t, PROVIDER_KEYS);
  const pv: ProviderConfig = {};
  if (t.config !== undefined) {
    const file = str(source, `${at}.config`, t.config);
    // Relative paths mean "next to fleet.toml"; "~" is expanded at launch, with the launch env's HOME.
    pv.config = !isAbsolute(file) && !file.startsWith('~') && isAbsolute(source) ? resolve(dirname(source), file) : file;
  }
  if (t.env !== undefined) pv.env = envTable(source, `${at}.env`, t.env);
  if (t.profile !== undefined) {
    pv.profile = str(source, `${at}.profile`, t.profile);
    if (!/^[A-Za-z0-9_-]+$/.test(pv.profile)) fail(source, `${at}.profile`, 'must be an llmspell profile name (letters, digits, "-", "_"), e.g. "openai-prod"', t.profile);
  }
  return pv;
}

function parseRouterLimits(source: string, v: unknown, defaults: RouterLimits): RouterLimits {
  if (!isTable(v)) fail(source, 'router', 'must be a table: [router]', v);
  onlyKeys(source, 'router', v, ROUTER_KEYS);
  const limits = { ...defaults };
  if (v.max_message_mb !== undefined) limits.max_message_mb = num(source, 'router.max_message_mb', v.max_message_mb, 0, true);
  if (v.restart_limit !== undefined) {
    limits.restart_limit = num(source, 'router.restart_limit', v.restart_limit, 0, false);
    if (!Number.isInteger(limits.restart_limit)) fail(source, 'router.restart_limit', 'must be a whole number', v.restart_limit);
  }
  if (v.heartbeat_timeout_seconds !== undefined) {
    limits.heartbeat_timeout_seconds = num(source, 'router.heartbeat_timeout_seconds', v.heartbeat_timeout_seconds, 0, true);
  }
  return limits;
}

function parseToml(text: string, source: string): Table {
  try {
    return parse(text) as Table;
  } catch (cause) {
    if (cause instanceof TomlError) {
      const reason = cause.message.split('\n')[0] ?? 'syntax error';
      throw new FleetError('BAD_CONFIG', `${source}:${cause.line}:${cause.column}: TOML syntax error: ${reason}`, {
        source,
        line: cause.line,
        column: cause.column,
      }, { cause });
    }
    throw cause;
  }
}

/** Validate one fleet.toml and merge it over the built-in defaults. Pure: no file access. */
export function parseFleetConfig(text: string, source: string): FleetConfig {
  const raw = parseToml(text, source);
  onlyKeys(source, '', raw, TOP_KEYS);
  const config = defaultFleetConfig();
  config.source = source;
  if (raw.default_runtime !== undefined) config.default_runtime = str(source, 'default_runtime', raw.default_runtime);
  if (raw.default_provider !== undefined) config.default_provider = str(source, 'default_provider', raw.default_provider);
  if (raw.linger_seconds !== undefined) config.linger_seconds = num(source, 'linger_seconds', raw.linger_seconds, 0, false);
  if (raw.router !== undefined) config.router = parseRouterLimits(source, raw.router, config.router);
  // A user table replaces the default of the same name wholesale: merging keys could mix a
  // kernelspec default with a user argv, which is never what was meant.
  if (raw.runtimes !== undefined) {
    for (const [name, t] of namedTables(source, 'runtimes', raw.runtimes)) config.runtimes[name] = parseRuntime(source, name, t);
  }
  if (raw.providers !== undefined) {
    for (const [name, t] of namedTables(source, 'providers', raw.providers)) config.providers[name] = parseProvider(source, name, t);
  }
  if (!Object.hasOwn(config.runtimes, config.default_runtime)) {
    fail(source, 'default_runtime', `must name a defined runtime (${Object.keys(config.runtimes).join(', ')}) or one you add as [runtimes.NAME]`, config.default_runtime);
  }
  if (!Object.hasOwn(config.providers, config.default_provider)) {
    fail(source, 'default_provider', `must name a defined provider (${Object.keys(config.providers).join(', ')}) or one you add as [providers.NAME]`, config.default_provider);
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
