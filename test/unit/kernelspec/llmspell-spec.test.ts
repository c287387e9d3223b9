import { describe, expect, it } from 'vitest';
import { LLMSPELL_FILE_PLACEHOLDER as ADAPTER_PLACEHOLDER } from '../../../src/cli/commands/llmspell-adapter.js';
import {
  type KernelKindFlags,
  type LlmspellKernelOptions,
  type LlmspellSpecOptions,
  LLMSPELL_FILE_PLACEHOLDER,
  buildLlmspellKernelSpec,
  llmspellKernelArgv,
  llmspellKernelFromFlags,
  resolveLlmspellKernelName,
} from '../../../src/kernelspec/llmspell-spec.js';
import { buildKernelSpec, isFleetKernelSpec } from '../../../src/kernelspec/spec.js';
import { isFleetError } from '../../../src/shared/errors.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isFleetError(error) ? error.code : `not a FleetError: ${String(error)}`;
  }
  return undefined;
}

const command = ['/usr/bin/node', '/opt/fleet/dist/src/cli/main.js'];
const ADAPTER_ARGS = ['llmspell-adapter', '--connection-file', '{connection_file}', '--'];
const START_ARGS = ['kernel', 'start', '--port', '0', '--connection-file', '{llmspell_connection_file}'];

describe('buildLlmspellKernelSpec', () => {
  it.each<[string, LlmspellSpecOptions, object]>([
    [
      'the plain llmspell kernelspec',
      { command },
      {
        argv: [...command, ...ADAPTER_ARGS, 'llmspell', ...START_ARGS],
        display_name: 'LLMSpell (Lua)',
        language: 'lua',
        interrupt_mode: 'message',
        metadata: { llmspell: { adapter: 'llmspell' }, debugger: false },
      },
    ],
    [
      'a built-in profile, before the subcommand as llmspell wants its global flags',
      { command, profile: 'openai-prod' },
      {
        argv: [...command, ...ADAPTER_ARGS, 'llmspell', '--profile', 'openai-prod', ...START_ARGS],
        display_name: 'LLMSpell (Lua)',
        language: 'lua',
        interrupt_mode: 'message',
        metadata: { llmspell: { adapter: 'llmspell', profile: 'openai-prod' }, debugger: false },
      },
    ],
    [
      'a config file and its own display name',
      { command, config: '/home/u/llmspell.toml', displayName: 'Lua (mine)' },
      {
        argv: [...command, ...ADAPTER_ARGS, 'llmspell', '--config', '/home/u/llmspell.toml', ...START_ARGS],
        display_name: 'Lua (mine)',
        language: 'lua',
        interrupt_mode: 'message',
        metadata: { llmspell: { adapter: 'llmspell', config: '/home/u/llmspell.toml' }, debugger: false },
      },
    ],
  ])('%s', (_title, options, expected) => {
    expect(buildLlmspellKernelSpec(options)).toStrictEqual(expected);
  });

  it.each<[string, LlmspellSpecOptions]>([
    ['an empty command', { command: [] }],
    ['an empty display name', { command, displayName: '  ' }],
    ['an empty profile', { command, profile: '' }],
    ['a profile that llmspell would read as a flag', { command, profile: '--daemon' }],
    ['a relative config path', { command, config: 'llmspell.toml' }],
    ['both a profile and a config', { command, profile: 'ollama', config: '/etc/llmspell.toml' }],
  ])('rejects %s with BAD_INSTALL_OPTIONS', (_title, options) => {
    expect(codeOf(() => buildLlmspellKernelSpec(options))).toBe('BAD_INSTALL_OPTIONS');
  });

  it('uses the placeholder the adapter command replaces', () => {
    expect(LLMSPELL_FILE_PLACEHOLDER).toBe(ADAPTER_PLACEHOLDER);
    expect(llmspellKernelArgv({}).at(-1)).toBe(ADAPTER_PLACEHOLDER);
  });
});

describe('llmspellKernelFromFlags', () => {
  it.each<[KernelKindFlags, LlmspellKernelOptions | undefined]>([
    [{}, undefined],
    [{ runtime: 'lua', provider: 'openai' }, undefined],
    [{ llmspell: true }, {}],
    [{ llmspell: true, llmspellProfile: 'ollama' }, { profile: 'ollama' }],
    [{ llmspell: true, llmspellConfig: 'cfg.toml' }, { config: 'cfg.toml' }],
  ])('%j → %j', (flags, expected) => {
    expect(llmspellKernelFromFlags(flags)).toStrictEqual(expected);
  });

  it.each<[string, KernelKindFlags, readonly string[]]>([
    ['a profile without --llmspell', { llmspellProfile: 'ollama' }, ['--llmspell-profile']],
    ['a config without --llmspell', { llmspellConfig: 'c.toml', runtime: 'lua' }, ['--llmspell-config']],
    ['--llmspell with --runtime', { llmspell: true, runtime: 'lua' }, ['--runtime']],
    ['--llmspell with --runtime and --provider', { llmspell: true, runtime: 'lua', provider: 'openai' }, ['--runtime', '--provider']],
    ['both a profile and a config', { llmspell: true, llmspellProfile: 'p', llmspellConfig: 'c' }, ['--llmspell-profile', '--llmspell-config']],
  ])('rejects %s, naming the flags', (_title, flags, named) => {
    try {
      llmspellKernelFromFlags(flags);
      expect.unreachable();
    } catch (error) {
      expect(isFleetError(error) && error.code).toBe('BAD_INSTALL_OPTIONS');
      expect(isFleetError(error) && error.context).toEqual({ flags: named });
    }
  });
});

describe('resolveLlmspellKernelName', () => {
  it.each<[string | undefined, string]>([
    [undefined, 'llmspell'],
    ['Lua-Alone', 'lua-alone'],
  ])('%j → %s', (name, expected) => {
    expect(resolveLlmspellKernelName(name)).toBe(expected);
  });

  it('rejects a name Jupyter would not list', () => {
    expect(codeOf(() => resolveLlmspellKernelName('no way'))).toBe('BAD_KERNEL_NAME');
  });
});

describe('isFleetKernelSpec knows both kinds', () => {
  it.each<[string, unknown, boolean]>([
    ['the llmspell kernelspec', buildLlmspellKernelSpec({ command: ['node', 'main.js'], profile: 'ollama' }), true],
    ['the fleet kernelspec', buildKernelSpec({ command: ['node', 'main.js'] }), true],
    ['llmspell-adapter in argv but no llmspell metadata', { argv: ['x', 'llmspell-adapter'], metadata: { debugger: false } }, false],
    ['a hand-written kernelspec that starts llmspell itself', { argv: ['llmspell', 'kernel', 'start'], metadata: { llmspell: { adapter: 'llmspell' } } }, false],
  ])('%s → %s', (_title, json, expected) => {
    expect(isFleetKernelSpec(json)).toBe(expected);
  });
});
