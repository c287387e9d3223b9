/**
 * The kernel.json we install, built as data. Pure: no file system, no process state.
 */
import * as v from 'valibot';
import { FleetError } from '../shared/errors.js';
import { ROUTER_KERNEL_ENV } from '../shared/extra-ca-certs.js';
import type { LlmspellAdapterMetadata } from './llmspell-spec.js';
import { isTable } from '../shared/schema.js';

export const DEFAULT_KERNEL_NAME = 'llmspell-fleet';
export const DEFAULT_DISPLAY_NAME = 'LLMSpell Fleet';
/**
 * "lua" because llmspell is the flagship backend. Never "python": VS Code injects Python
 * startup code into any kernel that declares it.
 */
export const KERNEL_LANGUAGE = 'lua';
/** Resource files copied next to kernel.json; Jupyter front ends look for exactly these names. */
export const LOGO_FILES = ['logo-32x32.png', 'logo-64x64.png', 'logo-svg.svg'] as const;

/** Jupyter's own rule (jupyter_client `_kernel_name_pat`), so a name we accept is one Jupyter lists. */
const KERNEL_NAME_PATTERN = /^[a-z0-9._-]+$/i;
const KERNEL_NAME_RULE = 'letters, digits and the separators - . _ (hyphen, period, underscore)';

/** What the router needs to know about an alias kernelspec; empty for the plain one. */
export interface LlmspellSpecMetadata {
  runtime?: string;
  provider?: string;
}

/** kernel.json as on disk: snake_case field names are Jupyter's. */
export interface KernelSpecJson {
  argv: string[];
  display_name: string;
  language: string;
  interrupt_mode: 'message';
  /** Set over the client's environment, `${NAME}` filled from it (jupyter_client); the router's: shared/extra-ca-certs.ts. */
  env?: Record<string, string>;
  /** `llmspell` marks the kernelspec as ours: the fleet's (router) or the plain llmspell one (adapter). */
  metadata: { llmspell: LlmspellSpecMetadata | LlmspellAdapterMetadata; debugger: false };
}

/** An alias kernelspec pins the runtime and/or provider the router asks the fleet for. */
export interface AliasOptions {
  runtime?: string;
  provider?: string;
}

export interface SpecOptions extends AliasOptions {
  /** How to start our CLI, e.g. [node, /abs/dist/src/cli/main.js]; `router ...` is appended. */
  command: readonly string[];
  displayName?: string;
}

export interface NameOptions extends AliasOptions {
  name?: string;
}

/**
 * Checks a kernelspec name and returns it lowercased: jupyter_client lowercases names on install
 * and when listing, so a mixed-case directory would be found under a different name than given.
 */
export function validateKernelName(name: string): string {
  if (!KERNEL_NAME_PATTERN.test(name)) {
    throw new FleetError(
      'BAD_KERNEL_NAME',
      `invalid kernelspec name ${JSON.stringify(name)}: Jupyter allows only ${KERNEL_NAME_RULE}; choose another --name`,
      { name },
    );
  }
  return name.toLowerCase();
}

function checkAliasPart(flag: 'runtime' | 'provider', value: string | undefined): void {
  if (value !== undefined && value.trim() === '') {
    throw new FleetError('BAD_INSTALL_OPTIONS', `--${flag} needs a non-empty value, e.g. --${flag} NAME`, {
      option: flag,
      value,
    });
  }
}

function aliasParts(alias: AliasOptions): string[] {
  checkAliasPart('runtime', alias.runtime);
  checkAliasPart('provider', alias.provider);
  return [alias.runtime, alias.provider].filter((part): part is string => part !== undefined);
}

function defaultKernelName(alias: AliasOptions): string {
  return [DEFAULT_KERNEL_NAME, ...aliasParts(alias)].join('-');
}

export function defaultDisplayName(alias: AliasOptions): string {
  const parts = aliasParts(alias);
  return parts.length === 0 ? DEFAULT_DISPLAY_NAME : `${DEFAULT_DISPLAY_NAME} (${parts.join(', ')})`;
}

/** The name to install under: --name if given, else derived from the alias; always validated. */
export function resolveKernelName(options: NameOptions): string {
  if (options.name !== undefined) return validateKernelName(options.name);
  const derived = defaultKernelName(options);
  if (!KERNEL_NAME_PATTERN.test(derived)) {
    throw new FleetError(
      'BAD_KERNEL_NAME',
      `the kernelspec name ${JSON.stringify(derived)} made from --runtime/--provider is not valid: Jupyter allows only ${KERNEL_NAME_RULE}; pass --name NAME`,
      { name: derived, runtime: options.runtime, provider: options.provider },
    );
  }
  return derived.toLowerCase();
}

export function buildKernelSpec(options: SpecOptions): KernelSpecJson {
  if (options.command.length === 0) {
    throw new FleetError('BAD_INSTALL_OPTIONS', 'the kernelspec command is empty: give the program that runs the CLI', {
      option: 'command',
    });
  }
  if (options.displayName !== undefined && options.displayName.trim() === '') {
    throw new FleetError('BAD_INSTALL_OPTIONS', '--display-name needs a non-empty value', {
      option: 'displayName',
      value: options.displayName,
    });
  }
  aliasParts(options); // validates --runtime/--provider before anything is built
  const llmspell: LlmspellSpecMetadata = {};
  const argv = [
    ...options.command,
    'router',
    '--connection-file',
    '{connection_file}',
    '--spec-dir',
    '{resource_dir}',
  ];
  if (options.runtime !== undefined) {
    argv.push('--runtime', options.runtime);
    llmspell.runtime = options.runtime;
  }
  if (options.provider !== undefined) {
    argv.push('--provider', options.provider);
    llmspell.provider = options.provider;
  }
  return {
    argv,
    display_name: options.displayName ?? defaultDisplayName(options),
    language: KERNEL_LANGUAGE,
    interrupt_mode: 'message',
    env: { ...ROUTER_KERNEL_ENV },
    metadata: { llmspell, debugger: false },
  };
}

/** The CLI subcommands our kernelspecs run: the fleet's router, or the adapter in front of one llmspell. */
const OUR_SUBCOMMANDS: readonly string[] = ['router', 'llmspell-adapter'];

/** What marks a kernel.json as ours: one of those subcommands in argv and a `metadata.llmspell` object. */
const FleetKernelSpecMark = v.object({
  argv: v.pipe(v.array(v.unknown()), v.check((argv) => argv.some((arg) => OUR_SUBCOMMANDS.includes(arg as string)))),
  metadata: v.object({ llmspell: v.custom<object>((x) => isTable(x)) }),
});

/**
 * Whether a parsed kernel.json was written by us (either kind). Install and uninstall refuse to
 * replace or delete anything else, so `--name python3` cannot destroy another kernel.
 */
export function isFleetKernelSpec(json: unknown): boolean {
  return v.is(FleetKernelSpecMark, json);
}
