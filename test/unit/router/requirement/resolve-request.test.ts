import { describe, expect, it } from 'vitest';
import { isFleetError } from '../../../../src/shared/errors.js';
import {
  resolveRequest,
  type LaunchLayer,
  type RequestResolution,
  type ResolveRequestInput,
} from '../../../../src/router/requirement/resolve-request.js';

type Pair = { runtime?: string; provider?: string };
type LaunchSpec = Partial<Record<'argv' | 'kernelspec' | 'notebook' | 'env' | 'project', Pair>>;

const LAUNCH_SOURCES = {
  argv: 'argv',
  kernelspec: 'kernelspec',
  notebook: 'notebook:/srv/launch.ipynb',
  env: 'env:LLMSPELL_RUNTIME',
  project: 'project:/srv/llmspell-fleet.toml',
} as const;

/** The launch list as fleet's launchLayers builds it, ending with the config layer (lua/openai). */
function launch(spec: LaunchSpec = {}): LaunchLayer[] {
  const layers: LaunchLayer[] = (Object.keys(LAUNCH_SOURCES) as Array<keyof LaunchSpec>).map((name) => {
    const layer: LaunchLayer = { name };
    for (const field of ['runtime', 'provider'] as const) {
      const value = spec[name]?.[field];
      if (value !== undefined) layer[field] = { value, source: LAUNCH_SOURCES[name] };
    }
    return layer;
  });
  layers.push({ name: 'config', runtime: { value: 'lua', source: 'config' }, provider: { value: 'openai', source: 'config' } });
  return layers;
}

type Case = [string, Omit<ResolveRequestInput, 'launch'> & { launchSpec?: LaunchSpec }, RequestResolution];

const fromConfig = { requirement: { runtime: 'lua', provider: 'openai' }, sources: { runtime: 'config', provider: 'config' } };
const directive = '%%llmspell runtime=python provider=anthropic\nx = 1';
const nb = { path: '/home/u/cell.ipynb', runtime: 'javascript', provider: 'ollama' };

describe('resolveRequest', () => {
  it.each<Case>([
    // each layer alone
    ['nothing: config', {}, fromConfig],
    [
      'directive alone',
      { code: directive },
      { requirement: { runtime: 'python', provider: 'anthropic' }, sources: { runtime: 'directive', provider: 'directive' }, code: '\nx = 1' },
    ],
    [
      'metadata alone',
      { metadata: { llmspell: { runtime: 'python', provider: 'ollama' } } },
      { requirement: { runtime: 'python', provider: 'ollama' }, sources: { runtime: 'metadata.llmspell.runtime', provider: 'metadata.llmspell.provider' } },
    ],
    [
      'sticky alone',
      { sticky: { runtime: 'javascript', provider: 'anthropic' } },
      { requirement: { runtime: 'javascript', provider: 'anthropic' }, sources: { runtime: 'sticky', provider: 'sticky' } },
    ],
    [
      'argv alone',
      { launchSpec: { argv: { runtime: 'python', provider: 'ollama' } } },
      { requirement: { runtime: 'python', provider: 'ollama' }, sources: { runtime: 'argv', provider: 'argv' } },
    ],
    [
      'kernelspec alone',
      { launchSpec: { kernelspec: { runtime: 'python' } } },
      { requirement: { runtime: 'python', provider: 'openai' }, sources: { runtime: 'kernelspec', provider: 'config' } },
    ],
    [
      'request notebook (cellId) alone',
      { notebook: nb },
      { requirement: { runtime: 'javascript', provider: 'ollama' }, sources: { runtime: 'notebook:/home/u/cell.ipynb', provider: 'notebook:/home/u/cell.ipynb' } },
    ],
    [
      'launch notebook (JPY_SESSION_NAME) alone',
      { launchSpec: { notebook: { provider: 'anthropic' } } },
      { requirement: { runtime: 'lua', provider: 'anthropic' }, sources: { runtime: 'config', provider: 'notebook:/srv/launch.ipynb' } },
    ],
    [
      'env alone',
      { launchSpec: { env: { runtime: 'python' } } },
      { requirement: { runtime: 'python', provider: 'openai' }, sources: { runtime: 'env:LLMSPELL_RUNTIME', provider: 'config' } },
    ],
    [
      'project file alone',
      { launchSpec: { project: { runtime: 'javascript', provider: 'ollama' } } },
      {
        requirement: { runtime: 'javascript', provider: 'ollama' },
        sources: { runtime: 'project:/srv/llmspell-fleet.toml', provider: 'project:/srv/llmspell-fleet.toml' },
      },
    ],
    // each adjacent pair
    [
      'directive beats metadata',
      { code: directive, metadata: { llmspell_runtime: 'lua', llmspell_provider: 'ollama' } },
      { requirement: { runtime: 'python', provider: 'anthropic' }, sources: { runtime: 'directive', provider: 'directive' }, code: '\nx = 1' },
    ],
    [
      'metadata beats sticky',
      { metadata: { tags: ['llmspell:runtime=python'] }, sticky: { runtime: 'javascript', provider: 'anthropic' } },
      { requirement: { runtime: 'python', provider: 'anthropic' }, sources: { runtime: 'metadata.tags', provider: 'sticky' } },
    ],
    [
      'sticky beats argv',
      { sticky: { runtime: 'javascript' }, launchSpec: { argv: { runtime: 'python', provider: 'ollama' } } },
      { requirement: { runtime: 'javascript', provider: 'ollama' }, sources: { runtime: 'sticky', provider: 'argv' } },
    ],
    [
      'argv beats kernelspec',
      { launchSpec: { argv: { runtime: 'python' }, kernelspec: { runtime: 'javascript', provider: 'anthropic' } } },
      { requirement: { runtime: 'python', provider: 'anthropic' }, sources: { runtime: 'argv', provider: 'kernelspec' } },
    ],
    [
      'kernelspec beats the request notebook',
      { notebook: nb, launchSpec: { kernelspec: { runtime: 'python' } } },
      { requirement: { runtime: 'python', provider: 'ollama' }, sources: { runtime: 'kernelspec', provider: 'notebook:/home/u/cell.ipynb' } },
    ],
    [
      'request notebook beats launch notebook',
      { notebook: { path: '/home/u/cell.ipynb', runtime: 'javascript' }, launchSpec: { notebook: { runtime: 'python', provider: 'anthropic' } } },
      { requirement: { runtime: 'javascript', provider: 'anthropic' }, sources: { runtime: 'notebook:/home/u/cell.ipynb', provider: 'notebook:/srv/launch.ipynb' } },
    ],
    [
      'request notebook beats env',
      { notebook: nb, launchSpec: { env: { runtime: 'python', provider: 'anthropic' } } },
      { requirement: { runtime: 'javascript', provider: 'ollama' }, sources: { runtime: 'notebook:/home/u/cell.ipynb', provider: 'notebook:/home/u/cell.ipynb' } },
    ],
    [
      'launch notebook beats env',
      { launchSpec: { notebook: { runtime: 'javascript' }, env: { runtime: 'python' } } },
      { requirement: { runtime: 'javascript', provider: 'openai' }, sources: { runtime: 'notebook:/srv/launch.ipynb', provider: 'config' } },
    ],
    [
      'env beats project',
      { launchSpec: { env: { provider: 'anthropic' }, project: { runtime: 'python', provider: 'ollama' } } },
      { requirement: { runtime: 'python', provider: 'anthropic' }, sources: { runtime: 'project:/srv/llmspell-fleet.toml', provider: 'env:LLMSPELL_RUNTIME' } },
    ],
    [
      'project beats config',
      { launchSpec: { project: { provider: 'ollama' } } },
      { requirement: { runtime: 'lua', provider: 'ollama' }, sources: { runtime: 'config', provider: 'project:/srv/llmspell-fleet.toml' } },
    ],
    // per-field independence
    [
      'every field from a different layer',
      { code: '%%llmspell provider=anthropic\nx', sticky: { runtime: 'javascript' }, launchSpec: { argv: { runtime: 'python', provider: 'ollama' } } },
      { requirement: { runtime: 'javascript', provider: 'anthropic' }, sources: { runtime: 'sticky', provider: 'directive' }, code: '\nx' },
    ],
    [
      'directive runtime, metadata provider',
      { code: '%%llmspell runtime=python\nx', metadata: { llmspell: { runtime: 'lua', provider: 'ollama' } } },
      { requirement: { runtime: 'python', provider: 'ollama' }, sources: { runtime: 'directive', provider: 'metadata.llmspell.provider' }, code: '\nx' },
    ],
    [
      'group comes from the most specific layer that sets it',
      { code: '%%llmspell group=team\nx', sticky: { runtime: 'python', group: 'solo' } },
      { requirement: { runtime: 'python', provider: 'openai', group: 'team' }, sources: { runtime: 'sticky', provider: 'config', group: 'directive' }, code: '\nx' },
    ],
    [
      'group from metadata',
      { metadata: { llmspell: { group: 'lab' } } },
      { requirement: { runtime: 'lua', provider: 'openai', group: 'lab' }, sources: { runtime: 'config', provider: 'config', group: 'metadata.llmspell.group' } },
    ],
    [
      'a notebook never sets the group',
      { notebook: { runtime: 'python', group: 'nb' } as { runtime: string } },
      { requirement: { runtime: 'python', provider: 'openai' }, sources: { runtime: 'notebook', provider: 'config' } },
    ],
    // blanks and absent code
    [
      'blank sticky and notebook values fall through',
      { sticky: { runtime: ' ', provider: '' }, notebook: { runtime: '\t' } },
      fromConfig,
    ],
    ['cell without a directive: no code in the result', { code: 'print(1)' }, fromConfig],
    ['no code at all (comm_open)', { metadata: {} }, fromConfig],
    // errors
    [
      'malformed directive: error, the rest still resolved',
      { code: '%%llmspell runtme=python\nx', sticky: { runtime: 'javascript' } },
      {
        requirement: { runtime: 'javascript', provider: 'openai' },
        sources: { runtime: 'sticky', provider: 'config' },
        error: '%%llmspell has an unknown key "runtme"; allowed keys: runtime, provider, group (e.g. %%llmspell runtime=lua provider=anthropic)',
      },
    ],
  ])('%s', (_name, { launchSpec, ...input }, expected) => {
    expect(resolveRequest({ ...input, launch: launch(launchSpec) })).toEqual(expected);
  });

  it('puts the request notebook after argv/kernelspec even when the launch list has no notebook layer', () => {
    const layers: LaunchLayer[] = [
      { name: 'argv', provider: { value: 'anthropic', source: 'argv' } },
      { name: 'env', runtime: { value: 'python', source: 'env:LLMSPELL_RUNTIME' }, provider: { value: 'ollama', source: 'env:LLMSPELL_PROVIDER' } },
      { name: 'config', runtime: { value: 'lua', source: 'config' }, provider: { value: 'openai', source: 'config' } },
    ];
    expect(resolveRequest({ notebook: nb, launch: layers }).sources).toEqual({ runtime: 'notebook:/home/u/cell.ipynb', provider: 'argv' });
  });

  it('a launch list that leaves a field unset is a programming error', () => {
    let err: unknown;
    try {
      resolveRequest({ launch: [{ name: 'argv', runtime: { value: 'lua', source: 'argv' } }] });
    } catch (e) {
      err = e;
    }
    expect(isFleetError(err) && err.code).toBe('BAD_CONFIG');
    expect(isFleetError(err) && err.context).toEqual({ layers: ['argv'] });
  });
});
