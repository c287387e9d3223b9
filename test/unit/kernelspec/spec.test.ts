import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type AliasOptions,
  type NameOptions,
  type SpecOptions,
  buildKernelSpec,
  defaultDisplayName,
  isFleetKernelSpec,
  resolveKernelName,
  validateKernelName,
} from '../../../src/kernelspec/spec.js';
import { isFleetError } from '../../../src/shared/errors.js';
import { ROUTER_KERNEL_ENV } from '../../../src/shared/extra-ca-certs.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isFleetError(error) ? error.code : `not a FleetError: ${String(error)}`;
  }
  return undefined;
}

const ROUTER_ARGS = ['router', '--connection-file', '{connection_file}', '--spec-dir', '{resource_dir}'];

describe('validateKernelName', () => {
  it.each([
    ['llmspell-fleet', 'llmspell-fleet'],
    ['My.Kernel_2', 'my.kernel_2'],
    ['a', 'a'],
    ['x-Y-z', 'x-y-z'],
  ])('accepts %j as %j', (name, expected) => {
    expect(validateKernelName(name)).toBe(expected);
  });

  it.each(['', 'bad name', 'naïve', 'a/b', '../up', 'x;rm', 'tab\there', 'new\nline'])('rejects %j', (name) => {
    expect(codeOf(() => validateKernelName(name))).toBe('BAD_KERNEL_NAME');
  });

  it('puts the bad name in the error context', () => {
    try {
      validateKernelName('bad name');
      expect.unreachable();
    } catch (error) {
      expect(isFleetError(error) && error.context).toEqual({ name: 'bad name' });
    }
  });
});

describe('resolveKernelName', () => {
  it.each<[NameOptions, string]>([
    [{}, 'llmspell-fleet'],
    [{ runtime: 'ipykernel', provider: 'openai' }, 'llmspell-fleet-ipykernel-openai'],
    [{ runtime: 'lua' }, 'llmspell-fleet-lua'],
    [{ provider: 'Ollama' }, 'llmspell-fleet-ollama'],
    [{ name: 'Custom', runtime: 'lua', provider: 'openai' }, 'custom'],
    [{ name: 'mine', runtime: 'has space' }, 'mine'],
  ])('%j → %s', (options, expected) => {
    expect(resolveKernelName(options)).toBe(expected);
  });

  it.each<[NameOptions, string]>([
    [{ name: 'a b' }, 'BAD_KERNEL_NAME'],
    [{ runtime: 'has space', provider: 'openai' }, 'BAD_KERNEL_NAME'],
    [{ runtime: '' }, 'BAD_INSTALL_OPTIONS'],
    [{ provider: '   ' }, 'BAD_INSTALL_OPTIONS'],
  ])('%j fails with %s', (options, code) => {
    expect(codeOf(() => resolveKernelName(options))).toBe(code);
  });
});

describe('defaultDisplayName', () => {
  it.each<[AliasOptions, string]>([
    [{}, 'LLMSpell Fleet'],
    [{ runtime: 'lua', provider: 'openai' }, 'LLMSpell Fleet (lua, openai)'],
    [{ runtime: 'tslab' }, 'LLMSpell Fleet (tslab)'],
    [{ provider: 'anthropic' }, 'LLMSpell Fleet (anthropic)'],
  ])('%j → %s', (alias, expected) => {
    expect(defaultDisplayName(alias)).toBe(expected);
  });
});

describe('buildKernelSpec', () => {
  const command = ['/usr/bin/node', '/opt/fleet/dist/src/cli/main.js'];

  it.each<[string, SpecOptions, object]>([
    [
      'the plain kernelspec',
      { command },
      {
        argv: [...command, ...ROUTER_ARGS],
        display_name: 'LLMSpell Fleet',
        language: 'lua',
        interrupt_mode: 'message',
        env: ROUTER_KERNEL_ENV,
        metadata: { llmspell: {}, debugger: false },
      },
    ],
    [
      'an alias for runtime and provider',
      { command, runtime: 'ipykernel', provider: 'openai' },
      {
        argv: [...command, ...ROUTER_ARGS, '--runtime', 'ipykernel', '--provider', 'openai'],
        display_name: 'LLMSpell Fleet (ipykernel, openai)',
        language: 'lua',
        interrupt_mode: 'message',
        env: ROUTER_KERNEL_ENV,
        metadata: { llmspell: { runtime: 'ipykernel', provider: 'openai' }, debugger: false },
      },
    ],
    [
      'an alias for a provider only, with its own display name',
      { command, provider: 'ollama', displayName: 'Local models' },
      {
        argv: [...command, ...ROUTER_ARGS, '--provider', 'ollama'],
        display_name: 'Local models',
        language: 'lua',
        interrupt_mode: 'message',
        env: ROUTER_KERNEL_ENV,
        metadata: { llmspell: { provider: 'ollama' }, debugger: false },
      },
    ],
  ])('%s', (_title, options, expected) => {
    expect(buildKernelSpec(options)).toStrictEqual(expected);
  });

  it.each<[string, SpecOptions, string]>([
    ['an empty command', { command: [] }, 'BAD_INSTALL_OPTIONS'],
    ['an empty display name', { command, displayName: ' ' }, 'BAD_INSTALL_OPTIONS'],
    ['an empty runtime', { command, runtime: '' }, 'BAD_INSTALL_OPTIONS'],
  ])('rejects %s', (_title, options, code) => {
    expect(codeOf(() => buildKernelSpec(options))).toBe(code);
  });

  it('matches the shipped template kernelspec/kernel.json (with the CLI found on PATH)', () => {
    const template: unknown = JSON.parse(readFileSync(new URL('../../../kernelspec/kernel.json', import.meta.url), 'utf8'));
    expect(template).toStrictEqual(buildKernelSpec({ command: ['llmspell-fleet'] }));
  });
});

describe('isFleetKernelSpec', () => {
  it.each<[string, unknown, boolean]>([
    ['what we build', buildKernelSpec({ command: ['node', 'main.js'] }), true],
    ['an alias', buildKernelSpec({ command: ['node', 'main.js'], runtime: 'lua', provider: 'openai' }), true],
    [
      'ipykernel',
      { argv: ['python', '-m', 'ipykernel_launcher', '-f', '{connection_file}'], display_name: 'Python 3', language: 'python', metadata: { debugger: true } },
      false,
    ],
    ['llmspell metadata but no router in argv', { argv: ['llmspell', 'kernel', 'start'], metadata: { llmspell: {} } }, false],
    ['router in argv but no llmspell metadata', { argv: ['x', 'router'], metadata: {} }, false],
    ['llmspell metadata that is not an object', { argv: ['x', 'router'], metadata: { llmspell: 'yes' } }, false],
    ['llmspell metadata that is an array', { argv: ['x', 'router'], metadata: { llmspell: [] } }, false],
    ['null', null, false],
    ['a string', 'kernel', false],
  ])('%s → %s', (_title, json, expected) => {
    expect(isFleetKernelSpec(json)).toBe(expected);
  });
});
