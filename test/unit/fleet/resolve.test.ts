import { describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import { defaultFleetConfig } from '../../../src/fleet/defaults.js';
import {
  checkRequirement,
  DEFAULT_LAYERS,
  launchLayers,
  resolveRequirement,
  type ResolutionLayer,
  type ResolveInput,
} from '../../../src/fleet/resolve.js';

const config = { ...defaultFleetConfig(), source: '/h/fleet.toml' };

type Case = [
  string,
  Pick<ResolveInput, 'flags' | 'env' | 'specMetadata' | 'notebook' | 'project'>,
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
    [
      'notebook metadata alone',
      { flags: {}, env: {}, notebook: { path: '/n/a.ipynb', runtime: 'python', provider: 'anthropic' } },
      { runtime: 'python', provider: 'anthropic', sources: { runtime: 'notebook:/n/a.ipynb', provider: 'notebook:/n/a.ipynb' } },
    ],
    [
      'project file alone',
      { flags: {}, env: {}, project: { path: '/p/llmspell-fleet.toml', runtime: 'javascript' } },
      { runtime: 'javascript', provider: 'openai', sources: { runtime: 'project:/p/llmspell-fleet.toml', provider: 'config' } },
    ],
    [
      'kernelspec beats notebook',
      { flags: {}, env: {}, specMetadata: { runtime: 'javascript' }, notebook: { path: '/n/a.ipynb', runtime: 'python', provider: 'ollama' } },
      { runtime: 'javascript', provider: 'ollama', sources: { runtime: 'kernelspec', provider: 'notebook:/n/a.ipynb' } },
    ],
    [
      'notebook beats env',
      { flags: {}, env: { LLMSPELL_RUNTIME: 'lua', KERNEL_LLMSPELL_PROVIDER: 'ollama' }, notebook: { path: '/n/a.ipynb', runtime: 'python' } },
      { runtime: 'python', provider: 'ollama', sources: { runtime: 'notebook:/n/a.ipynb', provider: 'env:KERNEL_LLMSPELL_PROVIDER' } },
    ],
    [
      'env beats project',
      { flags: {}, env: { LLMSPELL_PROVIDER: 'anthropic' }, project: { path: '/p/llmspell-fleet.toml', runtime: 'python', provider: 'ollama' } },
      { runtime: 'python', provider: 'anthropic', sources: { runtime: 'project:/p/llmspell-fleet.toml', provider: 'env:LLMSPELL_PROVIDER' } },
    ],
    [
      'project beats config',
      { flags: {}, env: {}, project: { provider: 'ollama' } },
      { runtime: 'lua', provider: 'ollama', sources: { runtime: 'config', provider: 'project' } },
    ],
    [
      'blank or non-string file values are unset',
      { flags: {}, env: {}, notebook: { runtime: ' ', provider: 7 }, project: { runtime: null } },
      { runtime: 'lua', provider: 'openai', sources: { runtime: 'config', provider: 'config' } },
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

describe('launchLayers', () => {
  it('lists every layer in precedence order with what it gave', () => {
    const layers = launchLayers({
      flags: { provider: 'ollama' },
      specMetadata: { runtime: 'javascript' },
      notebook: { path: '/n/a.ipynb', runtime: 'python' },
      env: { LLMSPELL_RUNTIME: 'lua' },
      project: { path: '/p/llmspell-fleet.toml', provider: 'anthropic' },
      config,
    });
    expect(layers).toEqual([
      { name: 'argv', provider: { value: 'ollama', source: 'argv' } },
      { name: 'kernelspec', runtime: { value: 'javascript', source: 'kernelspec' } },
      { name: 'notebook', runtime: { value: 'python', source: 'notebook:/n/a.ipynb' } },
      { name: 'env', runtime: { value: 'lua', source: 'env:LLMSPELL_RUNTIME' } },
      { name: 'project', provider: { value: 'anthropic', source: 'project:/p/llmspell-fleet.toml' } },
      { name: 'config', runtime: { value: 'lua', source: 'config' }, provider: { value: 'openai', source: 'config' } },
    ]);
  });

  it.each([
    ['nothing set', { flags: {}, env: {} }],
    ['everything set', { flags: { runtime: 'python' }, env: { LLMSPELL_PROVIDER: 'ollama' }, notebook: { runtime: 'javascript', provider: 'anthropic' } }],
    ['per-field mix', { flags: {}, env: { KERNEL_LLMSPELL_RUNTIME: 'python' }, project: { provider: 'ollama' } }],
  ] as Array<[string, Omit<ResolveInput, 'config'>]>)('its first value per field is what resolveRequirement picks: %s', (_name, input) => {
    const layers = launchLayers({ ...input, config });
    const first = (field: 'runtime' | 'provider') => layers.find((l) => l[field] !== undefined)![field]!;
    const resolved = resolveRequirement({ ...input, config });
    expect({ runtime: resolved.runtime, provider: resolved.provider }).toEqual({ runtime: first('runtime').value, provider: first('provider').value });
    expect(resolved.sources).toEqual({ runtime: first('runtime').source, provider: first('provider').source });
  });
});

describe('checkRequirement', () => {
  it('accepts defined names', () => {
    expect(() => checkRequirement({ runtime: 'python', provider: 'ollama' }, config)).not.toThrow();
  });

  it.each([
    ['runtime', { runtime: 'cobol', provider: 'openai' }, 'UNKNOWN_RUNTIME', ['javascript', 'lua', 'python']],
    ['provider', { runtime: 'lua', provider: 'acme' }, 'UNKNOWN_PROVIDER', ['anthropic', 'gemini', 'ollama', 'openai']],
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
