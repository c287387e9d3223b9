/**
 * The plain "LLMSpell (Lua)" kernelspec: one llmspell behind the adapter, no router, no fleet.
 * Pure: no file system, no process state.
 */
import path from 'node:path';
import { FleetError } from '../shared/errors.js';
import { KERNEL_LANGUAGE, type KernelSpecJson, validateKernelName } from './spec.js';

export const LLMSPELL_KERNEL_NAME = 'llmspell';
export const LLMSPELL_DISPLAY_NAME = 'LLMSpell (Lua)';
/**
 * The adapter replaces it with the path of llmspell's own connection file. jupyter_client leaves
 * placeholders it does not know untouched (`format_kernel_cmd`), so it reaches the adapter as is.
 * Same text as the adapter command's LLMSPELL_FILE_PLACEHOLDER (a unit test holds them together).
 */
export const LLMSPELL_FILE_PLACEHOLDER = '{llmspell_connection_file}';

/** Which llmspell configuration the kernel starts with; neither means llmspell's own default. */
export interface LlmspellKernelOptions {
  /** A built-in llmspell profile (`llmspell --profile NAME`). */
  profile?: string;
  /** An llmspell config file (`llmspell --config FILE`); absolute, since Jupyter starts kernels anywhere. */
  config?: string;
}

/** What kernel.json records about the llmspell kernel; `adapter` is what marks it as ours. */
export interface LlmspellAdapterMetadata extends LlmspellKernelOptions {
  adapter: 'llmspell';
}

export interface LlmspellSpecOptions extends LlmspellKernelOptions {
  /** How to start our CLI, e.g. [node, /abs/dist/src/cli/main.js]; `llmspell-adapter ...` is appended. */
  command: readonly string[];
  displayName?: string;
}

/** The install/uninstall flags that choose between the fleet kernelspec and the llmspell one. */
export interface KernelKindFlags {
  llmspell?: boolean;
  llmspellProfile?: string;
  llmspellConfig?: string;
  runtime?: string;
  provider?: string;
}

const isAre = (flags: readonly string[]): string => (flags.length > 1 ? 'are' : 'is');

function badOption(message: string, context: Record<string, unknown>): FleetError {
  return new FleetError('BAD_INSTALL_OPTIONS', message, context);
}

/**
 * The llmspell options when the flags ask for the llmspell kernelspec, undefined for the fleet
 * one. Flags that belong to the other kind are an error rather than silently ignored.
 */
export function llmspellKernelFromFlags(flags: KernelKindFlags): LlmspellKernelOptions | undefined {
  const llmspellOnly = [
    flags.llmspellProfile !== undefined ? '--llmspell-profile' : undefined,
    flags.llmspellConfig !== undefined ? '--llmspell-config' : undefined,
  ].filter((flag): flag is string => flag !== undefined);
  if (flags.llmspell !== true) {
    if (llmspellOnly.length > 0) {
      throw badOption(`${llmspellOnly.join(' and ')} ${isAre(llmspellOnly)} only for the llmspell kernelspec: add --llmspell`, { flags: llmspellOnly });
    }
    return undefined;
  }
  const fleetOnly = [flags.runtime !== undefined ? '--runtime' : undefined, flags.provider !== undefined ? '--provider' : undefined].filter(
    (flag): flag is string => flag !== undefined,
  );
  if (fleetOnly.length > 0) {
    throw badOption(
      `${fleetOnly.join(' and ')} ${isAre(fleetOnly)} for fleet alias kernelspecs and cannot be combined with --llmspell (which runs one llmspell, no fleet); for llmspell's configuration use --llmspell-profile or --llmspell-config`,
      { flags: fleetOnly },
    );
  }
  if (llmspellOnly.length > 1) {
    throw badOption('--llmspell-profile and --llmspell-config cannot be combined: llmspell takes one of them', { flags: llmspellOnly });
  }
  return {
    ...(flags.llmspellProfile !== undefined ? { profile: flags.llmspellProfile } : {}),
    ...(flags.llmspellConfig !== undefined ? { config: flags.llmspellConfig } : {}),
  };
}

/** --name if given, else "llmspell"; always validated and lowercased. */
export function resolveLlmspellKernelName(name: string | undefined): string {
  return validateKernelName(name ?? LLMSPELL_KERNEL_NAME);
}

function checkKernelOptions(options: LlmspellKernelOptions): void {
  if (options.profile !== undefined && options.config !== undefined) {
    throw badOption('--llmspell-profile and --llmspell-config cannot be combined: llmspell takes one of them', {
      profile: options.profile,
      config: options.config,
    });
  }
  if (options.profile !== undefined && (options.profile.trim() === '' || options.profile.startsWith('-'))) {
    throw badOption('--llmspell-profile needs a profile name, e.g. --llmspell-profile openai-prod', { option: 'llmspellProfile', value: options.profile });
  }
  if (options.config !== undefined && !path.isAbsolute(options.config)) {
    throw badOption(`the llmspell config path ${options.config} is not absolute; Jupyter starts kernels from any directory`, {
      option: 'llmspellConfig',
      value: options.config,
    });
  }
}

/** llmspell's own argv: its global flags go before the `kernel start` subcommand. */
export function llmspellKernelArgv(options: LlmspellKernelOptions): string[] {
  checkKernelOptions(options);
  const flags = options.profile !== undefined ? ['--profile', options.profile] : options.config !== undefined ? ['--config', options.config] : [];
  return ['llmspell', ...flags, 'kernel', 'start', '--port', '0', '--connection-file', LLMSPELL_FILE_PLACEHOLDER];
}

/**
 * interrupt_mode "message": a SIGINT to the kernel's process group would kill llmspell, so
 * interrupts go to the adapter as interrupt_request, which never passes one on.
 */
export function buildLlmspellKernelSpec(options: LlmspellSpecOptions): KernelSpecJson {
  if (options.command.length === 0) {
    throw badOption('the kernelspec command is empty: give the program that runs the CLI', { option: 'command' });
  }
  if (options.displayName !== undefined && options.displayName.trim() === '') {
    throw badOption('--display-name needs a non-empty value', { option: 'displayName', value: options.displayName });
  }
  const llmspell: LlmspellAdapterMetadata = {
    adapter: 'llmspell',
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    ...(options.config !== undefined ? { config: options.config } : {}),
  };
  return {
    argv: [...options.command, 'llmspell-adapter', '--connection-file', '{connection_file}', '--', ...llmspellKernelArgv(options)],
    display_name: options.displayName ?? LLMSPELL_DISPLAY_NAME,
    language: KERNEL_LANGUAGE,
    interrupt_mode: 'message',
    metadata: { llmspell, debugger: false },
  };
}
