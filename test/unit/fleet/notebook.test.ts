import { mkdtempSync, rmSync, writeFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createNotebookReader,
  notebookPathFromEnv,
  notebookRequirementFromJson,
  readNotebookRequirement,
  type NotebookPathInput,
  type NotebookRequirement,
} from '../../../src/fleet/notebook.js';

const nb = (metadata: unknown) => JSON.stringify({ cells: [], metadata, nbformat: 4, nbformat_minor: 5 });

describe('notebookRequirementFromJson', () => {
  it.each<[string, string, NotebookRequirement | undefined]>([
    ['both fields', nb({ llmspell: { runtime: 'lua', provider: 'anthropic' } }), { runtime: 'lua', provider: 'anthropic' }],
    ['runtime only', nb({ kernelspec: { name: 'llmspell-fleet' }, llmspell: { runtime: 'python' } }), { runtime: 'python' }],
    ['values trimmed', nb({ llmspell: { provider: ' ollama ' } }), { provider: 'ollama' }],
    ['byte order mark', '\ufeff' + nb({ llmspell: { runtime: 'lua' } }), { runtime: 'lua' }],
    ['no llmspell metadata', nb({ kernelspec: {} }), undefined],
    ['no metadata', JSON.stringify({ cells: [] }), undefined],
    ['llmspell not an object', nb({ llmspell: 'lua' }), undefined],
    ['unusable values', nb({ llmspell: { runtime: 1, provider: '' } }), undefined],
    ['cell metadata does not count', JSON.stringify({ cells: [{ metadata: { llmspell: { runtime: 'lua' } } }], metadata: {} }), undefined],
    ['not JSON', '{"metadata": ', undefined],
    ['JSON null', 'null', undefined],
    ['JSON array', '[]', undefined],
  ])('%s', (_name, text, expected) => {
    expect(notebookRequirementFromJson(text)).toEqual(expected);
  });
});

describe('notebookPathFromEnv', () => {
  it.each<[string, NotebookPathInput, string | undefined]>([
    ['absolute JPY_SESSION_NAME', { env: { JPY_SESSION_NAME: '/home/u/a.ipynb' } }, '/home/u/a.ipynb'],
    ['connection file jupyter_session', { env: {}, connectionInfo: { jupyter_session: '/home/u/b.ipynb' } }, '/home/u/b.ipynb'],
    ['env beats the connection file', { env: { JPY_SESSION_NAME: '/a.ipynb' }, connectionInfo: { jupyter_session: '/b.ipynb' } }, '/a.ipynb'],
    ['a non-notebook env value falls back to the file', { env: { JPY_SESSION_NAME: 'console-1' }, connectionInfo: { jupyter_session: '/b.ipynb' } }, '/b.ipynb'],
    ['relative API path: the file of that name in the cwd', { env: { JPY_SESSION_NAME: 'work/c.ipynb' }, cwd: '/srv/root/work' }, '/srv/root/work/c.ipynb'],
    ['console session names are not notebooks', { env: { JPY_SESSION_NAME: 'c0ffee' }, connectionInfo: { jupyter_session: '' } }, undefined],
    ['a .py file is not a notebook', { env: { JPY_SESSION_NAME: '/home/u/script.py' } }, undefined],
    ['blank', { env: { JPY_SESSION_NAME: '  ' } }, undefined],
    ['non-string jupyter_session', { env: {}, connectionInfo: { jupyter_session: 42 } }, undefined],
    ['nothing', { env: {} }, undefined],
  ])('%s', (_name, input, expected) => {
    expect(notebookPathFromEnv(input)).toBe(expected);
  });
});

describe('reading notebook files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-notebook-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('reads metadata.llmspell', async () => {
    const path = file('a.ipynb', nb({ llmspell: { runtime: 'lua', provider: 'ollama' } }));
    expect(await readNotebookRequirement(path)).toEqual({ runtime: 'lua', provider: 'ollama' });
  });

  it.each<[string, () => string]>([
    ['missing file', () => join(dir, 'missing.ipynb')],
    ['bad JSON', () => file('bad.ipynb', '{')],
    ['a directory', () => dir],
  ])('never throws: %s', async (_name, path) => {
    await expect(readNotebookRequirement(path())).resolves.toBeUndefined();
  });

  it('skips files over the size cap', async () => {
    const path = file('big.ipynb', nb({ llmspell: { runtime: 'lua' } }));
    expect(await readNotebookRequirement(path, { maxBytes: 10 })).toBeUndefined();
  });

  it('the cached reader re-reads only a changed file', async () => {
    const path = file('cached.ipynb', nb({ llmspell: { runtime: 'lua' } }));
    const reader = createNotebookReader();
    expect(await reader.read(path)).toEqual({ runtime: 'lua' });
    writeFileSync(path, nb({ llmspell: { runtime: 'python' } }));
    utimesSync(path, new Date(), new Date(Date.now() + 5_000));
    expect(await reader.read(path)).toEqual({ runtime: 'python' });
    rmSync(path);
    expect(await reader.read(path)).toBeUndefined();
  });

  it('the cached reader serves an unchanged file from memory', async () => {
    const path = file('same.ipynb', nb({ llmspell: { runtime: 'lua' } }));
    const reader = createNotebookReader();
    const first = reader.read(path);
    expect(await first).toEqual({ runtime: 'lua' });
    // Same stamp: the very same result object comes back.
    expect(await reader.read(path)).toBe(await first);
  });
});
