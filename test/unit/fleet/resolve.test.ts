import { describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import { defaultFleetConfig } from '../../../src/fleet/defaults.js';
import {
  checkRequirement,
  DEFAULT_LAYERS,
  resolveRequirement,
  type ResolutionLayer,
  type ResolveInput,
} from '../../../src/fleet/resolve.js';

const config = { ...defaultFleetConfig(), source: '/h/fleet.toml' };

type Case = [
  string,
  Pick<ResolveInput, 'flags' | 'env' | 'specMetadata'>,
  { runtime: string; provider: string; sources: { runtime: string; provider: string } },
];

describe('resolveRequirement', () => {
  it.each<Case>([
    ['nothing set: config defaults', { flags: {}, env: {} }, { runtime: 'lua', provider: 'openai', sources: { runtime: 'config', provider: 'config' } }],
    [
      'flags beat everything',
      {
        flags: { runtime: 'python', provider: 'ollama' },
        specMetadata: { runtime: 'javascript', provider: 'anthropic' },
        env: { LLMSPELL_RUNTIME: 'lua', LLMSPELL_PROVIDER: 'openai' },
      },
      { runtime: 'python', provider: 'ollama', sources: { runtime: 'argv', provider: 'argv' } },
    ],
    [
      'kernelspec metadata beats env',
      { flags: {}, specMetadata: { runtime: 'javascript', provider: 'anthropic' }, env: { LLMSPELL_RUNTIME: 'lua', LLMSPELL_PROVIDER: 'ollama' } },
      { runtime: 'javascript', provider: 'anthropic', sources: { runtime: 'kernelspec', provider: 'kernelspec' } },
    ],
    [
      'env beats config',
      { flags: {}, env: { LLMSPELL_RUNTIME: 'python', LLMSPELL_PROVIDER: 'ollama' } },
      { runtime: 'python', provider: 'ollama', sources: { runtime: 'env:LLMSPELL_RUNTIME', provider: 'env:LLMSPELL_PROVIDER' } },
    ],
    [
      'gateway KERNEL_ names count',
      { flags: {}, env: { KERNEL_LLMSPELL_RUNTIME: 'python', KERNEL_LLMSPELL_PROVIDER: 'anthropic' } },
      { runtime: 'python', provider: 'anthropic', sources: { runtime: 'env:KERNEL_LLMSPELL_RUNTIME', provider: 'env:KERNEL_LLMSPELL_PROVIDER' } },
    ],
    [
      'plain names win over KERNEL_ names',
      { flags: {}, env: { KERNEL_LLMSPELL_RUNTIME: 'python', LLMSPELL_RUNTIME: 'javascript' } },
      { runtime: 'javascript', provider: 'openai', sources: { runtime: 'env:LLMSPELL_RUNTIME', provider: 'config' } },
    ],
    [
      'each field is decided on its own',
      { flags: { provider: 'ollama' }, specMetadata: { runtime: 'python' }, env: { LLMSPELL_PROVIDER: 'anthropic' } },
      { runtime: 'python', provider: 'ollama', sources: { runtime: 'kernelspec', provider: 'argv' } },
    ],
    [
      'empty and blank values are unset',
      { flags: { runtime: '' }, specMetadata: { runtime: '  ' }, env: { LLMSPELL_RUNTIME: '', KERNEL_LLMSPELL_RUNTIME: 'python' } },
      { runtime: 'python', provider: 'openai', sources: { runtime: 'env:KERNEL_LLMSPELL_RUNTIME', provider: 'config' } },
    ],
    [
      'values are trimmed',
      { flags: { runtime: ' python\n' }, env: {} },
      { runtime: 'python', provider: 'openai', sources: { runtime: 'argv', provider: 'config' } },
    ],
    [
      'non-string kernelspec metadata is ignored',
      { flags: {}, specMetadata: { runtime: 42, provider: { x: 1 } }, env: {} },
      { runtime: 'lua', provider: 'openai', sources: { runtime: 'config', provider: 'config' } },
    ],
    [
      'unknown names are passed through (checkRequirement judges them)',
      { flags: { runtime: 'cobol' }, env: {} },
      { runtime: 'cobol', provider: 'openai', sources: { runtime: 'argv', provider: 'config' } },
    ],
  ])('%s', (_name, input, expected) => {
    expect(resolveRequirement({ ...input, config })).toEqual(expected);
  });

  it('takes more layers without changing the loop', () => {
    // What a later per-request layer (e.g. a cell directive) will look like.
    const cell: ResolutionLayer = {
      name: 'cell',
      lookup: (_input, field) => (field === 'runtime' ? { value: 'python', source: 'cell' } : undefined),
    };
    const r = resolveRequirement({ flags: { runtime: 'javascript' }, env: {}, config }, [cell, ...DEFAULT_LAYERS]);
    expect(r).toEqual({ runtime: 'python', provider: 'openai', sources: { runtime: 'cell', provider: 'config' } });
  });

  it('a layer list without a fallback fails loudly', () => {
    expect(() => resolveRequirement({ flags: {}, env: {}, config }, [])).toThrow(/no resolution layer/);
  });
});

describe('checkRequirement', () => {
  it('accepts defined names', () => {
    expect(() => checkRequirement({ runtime: 'python', provider: 'ollama' }, config)).not.toThrow();
  });

  it.each([
    ['runtime', { runtime: 'cobol', provider: 'openai' }, 'UNKNOWN_RUNTIME', ['javascript', 'lua', 'python']],
    ['provider', { runtime: 'lua', provider: 'acme' }, 'UNKNOWN_PROVIDER', ['anthropic', 'ollama', 'openai']],
  ] as const)('unknown %s', (field, req, code, known) => {
    let err: unknown;
    try {
      checkRequirement({ ...req, sources: { [field]: 'env:LLMSPELL_RUNTIME' } }, config);
    } catch (e) {
      err = e;
    }
    expect(isFleetError(err) && err.code).toBe(code);
    expect(isFleetError(err) && err.context).toMatchObject({ [field]: req[field], known, configPath: '/h/fleet.toml' });
    const message = (err as Error).message;
    expect(message).toContain(known.join(', '));
    expect(message).toContain(`[${field}s.${req[field]}] in /h/fleet.toml`);
    expect(message).toContain('from env:LLMSPELL_RUNTIME');
  });

  it('names the given config path when the config has no file', () => {
    expect(() => checkRequirement({ runtime: 'x', provider: 'openai' }, defaultFleetConfig(), { configPath: '/c/fleet.toml' })).toThrow(
      /in \/c\/fleet\.toml/,
    );
  });
});
