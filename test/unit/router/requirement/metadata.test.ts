import { describe, expect, it } from 'vitest';
import {
  notebookPathFromCellId,
  notebookPathFromMetadata,
  requirementFromMetadata,
  type MetadataRequirement,
} from '../../../../src/router/requirement/metadata.js';

describe('requirementFromMetadata', () => {
  it.each<[string, unknown, MetadataRequirement]>([
    ['not an object', 'lua', { sources: {} }],
    ['null', null, { sources: {} }],
    ['an array', [{ llmspell: { runtime: 'lua' } }], { sources: {} }],
    ['nothing for us (JupyterLab defaults)', { cellId: 'a1b2', deletedCells: [], recordTiming: false }, { sources: {} }],
    [
      'llmspell object (JupyterLab / VS Code cell metadata)',
      { cellId: 'x', llmspell: { runtime: 'lua', provider: 'anthropic', group: 'team' } },
      {
        runtime: 'lua',
        provider: 'anthropic',
        group: 'team',
        sources: { runtime: 'metadata.llmspell.runtime', provider: 'metadata.llmspell.provider', group: 'metadata.llmspell.group' },
      },
    ],
    [
      'flat keys (jupyter console --Session.metadata)',
      { llmspell_runtime: 'python', llmspell_provider: 'ollama' },
      { runtime: 'python', provider: 'ollama', sources: { runtime: 'metadata.llmspell_runtime', provider: 'metadata.llmspell_provider' } },
    ],
    [
      'cell tags',
      { tags: ['slow', 'llmspell:runtime=javascript', ' llmspell:provider=openai '] },
      { runtime: 'javascript', provider: 'openai', sources: { runtime: 'metadata.tags', provider: 'metadata.tags' } },
    ],
    [
      'llmspell object beats flat keys beats tags, per field',
      { llmspell: { runtime: 'lua' }, llmspell_runtime: 'python', llmspell_provider: 'ollama', tags: ['llmspell:provider=openai', 'llmspell:group=g'] },
      {
        runtime: 'lua',
        provider: 'ollama',
        group: 'g',
        sources: { runtime: 'metadata.llmspell.runtime', provider: 'metadata.llmspell_provider', group: 'metadata.tags' },
      },
    ],
    ['first matching tag wins', { tags: ['llmspell:runtime=lua', 'llmspell:runtime=python'] }, { runtime: 'lua', sources: { runtime: 'metadata.tags' } }],
    ['empty tag value is skipped', { tags: ['llmspell:runtime=', 'llmspell:runtime=lua'] }, { runtime: 'lua', sources: { runtime: 'metadata.tags' } }],
    ['values are trimmed', { llmspell: { runtime: '  lua\n' } }, { runtime: 'lua', sources: { runtime: 'metadata.llmspell.runtime' } }],
    [
      'unusable values fall through to the next spelling',
      { llmspell: { runtime: 42, provider: '' }, llmspell_runtime: ' ', llmspell_provider: 'ollama', tags: ['llmspell:runtime=lua'] },
      { runtime: 'lua', provider: 'ollama', sources: { runtime: 'metadata.tags', provider: 'metadata.llmspell_provider' } },
    ],
    ['llmspell not an object is ignored', { llmspell: 'lua' }, { sources: {} }],
    ['tags not an array are ignored', { tags: 'llmspell:runtime=lua' }, { sources: {} }],
    ['non-string tags are ignored', { tags: [1, null, { a: 1 }, 'llmspell:provider=openai'] }, { provider: 'openai', sources: { provider: 'metadata.tags' } }],
    [
      'nested under metadata (older VS Code)',
      { cellId: 'vscode-notebook-cell:/a.ipynb#x', metadata: { llmspell: { runtime: 'python' }, tags: ['llmspell:provider=ollama'] } },
      { runtime: 'python', provider: 'ollama', sources: { runtime: 'metadata.metadata.llmspell.runtime', provider: 'metadata.metadata.tags' } },
    ],
    [
      'nested under custom.metadata (older VS Code)',
      { custom: { metadata: { llmspell: { provider: 'anthropic' } } } },
      { provider: 'anthropic', sources: { provider: 'metadata.custom.metadata.llmspell.provider' } },
    ],
    [
      'top level beats nested',
      { llmspell_runtime: 'lua', metadata: { llmspell: { runtime: 'python', provider: 'ollama' } } },
      { runtime: 'lua', provider: 'ollama', sources: { runtime: 'metadata.llmspell_runtime', provider: 'metadata.metadata.llmspell.provider' } },
    ],
  ])('%s', (_name, metadata, expected) => {
    expect(requirementFromMetadata(metadata)).toEqual(expected);
  });
});

describe('notebookPathFromCellId', () => {
  it.each<[string, unknown, string | undefined]>([
    ['VS Code local', 'vscode-notebook-cell:/home/u/work/nb.ipynb#W0sZmlsZQ%3D%3D', '/home/u/work/nb.ipynb'],
    ['percent-encoded path', 'vscode-notebook-cell:/home/u/my%20notes/%C3%A9t%C3%A9.ipynb#W1s', '/home/u/my notes/été.ipynb'],
    ['remote authority', 'vscode-notebook-cell://ssh-remote%2Bbox/srv/nb.ipynb#W2s', '/srv/nb.ipynb'],
    ['Windows drive', 'vscode-notebook-cell:/c%3A/Users/u/nb.ipynb#W0s', 'c:/Users/u/nb.ipynb'],
    ['file URI', 'file:///home/u/nb.ipynb', '/home/u/nb.ipynb'],
    ['upper-case extension', 'vscode-notebook-cell:/home/u/NB.IPYNB#W0s', '/home/u/NB.IPYNB'],
    ['dot segments are normalised', 'vscode-notebook-cell:/home/u/x/../nb.ipynb#W0s', '/home/u/nb.ipynb'],
    ['JupyterLab cell UUID', '3f1c2a9e-2b7d-4a55-9c43-2f6b6f1b9e10', undefined],
    ['untitled notebook (no file)', 'vscode-notebook-cell:Untitled-1.ipynb#W0s', undefined],
    ['not a notebook', 'vscode-notebook-cell:/home/u/script.py#W0s', undefined],
    ['interactive window', 'vscode-interactive-input:/InteractiveInput-1', undefined],
    ['other scheme', 'https://example.com/nb.ipynb', undefined],
    ['bad percent-encoding', 'vscode-notebook-cell:/home/u/%E0%A4%A.ipynb#x', undefined],
    ['NUL in path', 'vscode-notebook-cell:/home/u/a%00.ipynb#x', undefined],
    ['not a string', 42, undefined],
    ['undefined', undefined, undefined],
  ])('%s', (_name, cellId, expected) => {
    expect(notebookPathFromCellId(cellId)).toBe(expected);
  });
});

describe('notebookPathFromMetadata', () => {
  it.each<[string, unknown, string | undefined]>([
    ['top-level cellId', { cellId: 'vscode-notebook-cell:/a/b.ipynb#W0s' }, '/a/b.ipynb'],
    ['nested cellId', { metadata: { cellId: 'vscode-notebook-cell:/a/c.ipynb#W0s' } }, '/a/c.ipynb'],
    ['JupyterLab cellId', { cellId: 'a1b2c3' }, undefined],
    ['no metadata', undefined, undefined],
  ])('%s', (_name, metadata, expected) => {
    expect(notebookPathFromMetadata(metadata)).toBe(expected);
  });
});
