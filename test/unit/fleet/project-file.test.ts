import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import {
  findProjectFile,
  loadProjectRequirement,
  parseProjectRequirement,
  PROJECT_FILE_NAME,
  readProjectRequirement,
  type ProjectRequirement,
} from '../../../src/fleet/project-file.js';

const SRC = '/p/llmspell-fleet.toml';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('parseProjectRequirement', () => {
  it.each<[string, string, ProjectRequirement]>([
    ['empty file', '', { path: SRC }],
    ['short keys', 'runtime = "lua"\nprovider = "anthropic"\n', { path: SRC, runtime: 'lua', provider: 'anthropic' }],
    ['fleet.toml spelling', 'default_runtime = "python"\ndefault_provider = "ollama"', { path: SRC, runtime: 'python', provider: 'ollama' }],
    ['mixed spellings', 'runtime = "python"\ndefault_provider = "ollama"', { path: SRC, runtime: 'python', provider: 'ollama' }],
    ['one field', '# project default\nprovider = "openai"', { path: SRC, provider: 'openai' }],
    ['values trimmed', 'runtime = " lua "', { path: SRC, runtime: 'lua' }],
  ])('%s', (_name, text, expected) => {
    expect(parseProjectRequirement(text, SRC)).toEqual(expected);
  });

  it.each<[string, string, RegExp, Record<string, unknown>]>([
    ['syntax error names file, line and column', 'runtime = "lua"\nprovider = \n', /^\/p\/llmspell-fleet\.toml:2:\d+: TOML syntax error/, { source: SRC, line: 2 }],
    ['unknown key', 'runtimes = "lua"', /runtimes is not a known key; a project file may set only runtime, default_runtime, provider, default_provider/, { key: 'runtimes' }],
    ['a table is not allowed', '[runtimes.lua]\nargv = ["x"]', /runtimes is not a known key.*user fleet\.toml/, { key: 'runtimes' }],
    ['both spellings', 'runtime = "lua"\ndefault_runtime = "python"', /sets both runtime and default_runtime; keep one/, { key: 'runtime' }],
    ['not a string', 'provider = 3', /provider must be a non-empty string naming a provider \(got 3\)/, { key: 'provider' }],
    ['empty string', 'default_runtime = ""', /default_runtime must be a non-empty string/, { key: 'default_runtime' }],
    ['blank string', 'runtime = "  "', /runtime must be a non-empty string naming a runtime \(got "  "\)/, { key: 'runtime' }],
    ['names the line of a bad value', '# project\nruntime = "lua"\nprovider = 3\n', /^\/p\/llmspell-fleet\.toml:3: provider must be/, { key: 'provider', line: 3 }],
  ])('BAD_CONFIG: %s', (_name, text, message, context) => {
    const err = caught(() => parseProjectRequirement(text, SRC));
    expect(isFleetError(err) && err.code).toBe('BAD_CONFIG');
    expect((err as Error).message).toMatch(message);
    expect(isFleetError(err) && err.context).toMatchObject({ source: SRC, ...context });
  });
});

describe('finding and reading project files', () => {
  const root = mkdtempSync(join(tmpdir(), 'fleet-project-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const deep = join(root, 'a', 'b', 'c');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(root, 'a', PROJECT_FILE_NAME), 'runtime = "python"\n');

  it.each<[string, string, { stopAt?: string }, string | undefined]>([
    ['found in a parent', deep, {}, join(root, 'a', PROJECT_FILE_NAME)],
    ['found in the start directory', join(root, 'a'), {}, join(root, 'a', PROJECT_FILE_NAME)],
    ['stopAt is looked at, then the walk ends', deep, { stopAt: join(root, 'a') }, join(root, 'a', PROJECT_FILE_NAME)],
    ['stopAt below the file hides it', deep, { stopAt: join(root, 'a', 'b') }, undefined],
    ['not found above', root, { stopAt: root }, undefined],
  ])('%s', async (_name, start, options, expected) => {
    expect(await findProjectFile(start, options)).toBe(expected);
  });

  it('the nearest file wins', async () => {
    const near = join(root, 'a', 'b', PROJECT_FILE_NAME);
    writeFileSync(near, 'provider = "ollama"\n');
    try {
      expect(await findProjectFile(deep)).toBe(near);
      expect(await loadProjectRequirement(deep)).toEqual({ path: near, provider: 'ollama' });
    } finally {
      rmSync(near);
    }
  });

  it('a directory of that name is not a project file', async () => {
    mkdirSync(join(root, 'a', 'b', 'c', PROJECT_FILE_NAME));
    try {
      expect(await findProjectFile(deep)).toBe(join(root, 'a', PROJECT_FILE_NAME));
    } finally {
      rmSync(join(root, 'a', 'b', 'c', PROJECT_FILE_NAME), { recursive: true });
    }
  });

  it('loadProjectRequirement with no file is undefined', async () => {
    expect(await loadProjectRequirement(root, { stopAt: root })).toBeUndefined();
  });

  it('a broken file is BAD_CONFIG naming it', async () => {
    const path = join(root, 'broken.toml');
    writeFileSync(path, 'runtime = \n');
    await expect(readProjectRequirement(path)).rejects.toMatchObject({ code: 'BAD_CONFIG', context: { source: path, line: 1 } });
  });

  // A directory where the file should be cannot be read by anyone, root included (EISDIR).
  it('an unreadable file is BAD_CONFIG naming it', async () => {
    const path = join(root, 'llmspell-fleet.toml');
    mkdirSync(path);
    await expect(readProjectRequirement(path)).rejects.toMatchObject({ code: 'BAD_CONFIG', context: { source: path, errno: 'EISDIR' } });
  });

  it('a missing file is BAD_CONFIG naming it', async () => {
    const path = join(root, 'gone.toml');
    await expect(readProjectRequirement(path)).rejects.toMatchObject({ code: 'BAD_CONFIG', context: { source: path, errno: 'ENOENT' } });
  });
});
