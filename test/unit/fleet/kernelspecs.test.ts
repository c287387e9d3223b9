import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import {
  fallbackDataDirs,
  findKernelspec,
  jupyterDataDirs,
  parseKernelspec,
  preferPrefixInterpreter,
} from '../../../src/fleet/kernelspecs.js';

const VENV = resolve('.venv');
const VENV_SPEC_DIR = join(VENV, 'share', 'jupyter', 'kernels', 'python3');

let tmp: string;
let venvEnv: Record<string, string>;
/** No jupyter and no python3 on this PATH: the fallback list is all that is left. */
let bareEnv: Record<string, string>;

async function writeSpec(base: string, name: string, spec: unknown): Promise<string> {
  const dir = join(base, 'kernels', name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'kernel.json'), typeof spec === 'string' ? spec : JSON.stringify(spec));
  return dir;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fleet-kernelspecs-'));
  await mkdir(join(tmp, 'home'));
  await mkdir(join(tmp, 'emptybin'));
  await writeSpec(join(tmp, 'jp'), 'python3', { argv: ['fake-python', '-f', '{connection_file}'], language: 'python' });
  await writeSpec(join(tmp, 'jp'), 'only-here', { argv: ['x', '{connection_file}'], display_name: 'Only here' });
  await writeSpec(join(tmp, 'jp'), 'broken', '{ not json');
  await writeSpec(join(tmp, 'extra'), 'only-here', { argv: ['from-extra', '{connection_file}'] });
  venvEnv = { PATH: `${VENV}/bin:${process.env.PATH ?? ''}`, HOME: join(tmp, 'home') };
  bareEnv = { PATH: join(tmp, 'emptybin'), HOME: join(tmp, 'home'), JUPYTER_PATH: join(tmp, 'jp') };
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('findKernelspec against the real venv', () => {
  it('finds ipykernel python3 through `jupyter --paths`', async () => {
    const found = await findKernelspec('python3', { env: venvEnv });
    expect(found.dir).toBe(VENV_SPEC_DIR);
    expect(found.spec.argv).toEqual(['python', '-m', 'ipykernel_launcher', '-f', '{connection_file}']);
    expect(found.spec.language).toBe('python');
    expect(found.spec.display_name).toBe('Python 3 (ipykernel)');
  });

  it('matches names case-insensitively, as Jupyter does', async () => {
    await expect(findKernelspec('Python3', { env: venvEnv })).resolves.toMatchObject({ dir: VENV_SPEC_DIR });
  });

  it('asks jupyter once per environment', async () => {
    const first = jupyterDataDirs(venvEnv);
    expect(jupyterDataDirs({ ...venvEnv })).toBe(first);
    const dirs = await first;
    expect(dirs[0]).toBe(join(VENV, 'share', 'jupyter'));
    expect(dirs).toContain('/usr/share/jupyter');
  });

  it('JUPYTER_PATH comes before the venv', async () => {
    const found = await findKernelspec('python3', { env: { ...venvEnv, JUPYTER_PATH: join(tmp, 'jp') } });
    expect(found.dir).toBe(join(tmp, 'jp', 'kernels', 'python3'));
    expect(found.spec.argv[0]).toBe('fake-python');
  });

  it('turns a bare `python` into the prefix interpreter of the spec', async () => {
    const found = await findKernelspec('python3', { env: venvEnv });
    expect(await preferPrefixInterpreter(found)).toEqual([join(VENV, 'bin', 'python'), '-m', 'ipykernel_launcher', '-f', '{connection_file}']);
  });
});

describe('findKernelspec without jupyter on PATH', () => {
  it('falls back to the standard list', async () => {
    expect(await jupyterDataDirs(bareEnv)).toEqual([
      join(tmp, 'jp'),
      join(tmp, 'home', '.local', 'share', 'jupyter'),
      '/usr/local/share/jupyter',
      '/usr/share/jupyter',
    ]);
    await expect(findKernelspec('only-here', { env: bareEnv })).resolves.toMatchObject({
      dir: join(tmp, 'jp', 'kernels', 'only-here'),
      spec: { display_name: 'Only here' },
    });
  });

  it('adds the prefix of the python3 found on PATH', async () => {
    const real = await realpath(join(VENV, 'bin', 'python3'));
    const bin = join(tmp, 'py-only-bin');
    await mkdir(bin);
    await symlink(real, join(bin, 'python3'));
    const dirs = await jupyterDataDirs({ ...bareEnv, PATH: bin });
    expect(dirs[2]).toBe(join(dirname(dirname(real)), 'share', 'jupyter'));
  });

  it('searches extraDirs first', async () => {
    const found = await findKernelspec('only-here', { env: bareEnv, extraDirs: [join(tmp, 'extra')] });
    expect(found.spec.argv[0]).toBe('from-extra');
  });

  it('says where it looked and how to install when nothing is found', async () => {
    const err = await findKernelspec('no-such-kernel', { env: bareEnv }).catch((e: unknown) => e);
    expect(isFleetError(err) && err.code).toBe('KERNELSPEC_NOT_FOUND');
    const searched = (isFleetError(err) ? err.context.searched : []) as string[];
    expect(searched).toContain(join(tmp, 'jp', 'kernels', 'no-such-kernel', 'kernel.json'));
    expect(searched).toContain('/usr/share/jupyter/kernels/no-such-kernel/kernel.json');
    expect((err as Error).message).toContain(join(tmp, 'jp', 'kernels', 'no-such-kernel', 'kernel.json'));
    expect((err as Error).message).toContain('python -m ipykernel install --user');
  });

  it.each(['../etc', 'a/b', '', '.hidden'])('refuses the unsafe name %j without touching disk', async (name) => {
    const err = await findKernelspec(name, { env: bareEnv }).catch((e: unknown) => e);
    expect(isFleetError(err) && err.code).toBe('KERNELSPEC_NOT_FOUND');
    expect(isFleetError(err) && err.context.searched).toEqual([]);
  });

  it('reports a broken kernel.json by file name', async () => {
    const err = await findKernelspec('broken', { env: bareEnv }).catch((e: unknown) => e);
    expect(isFleetError(err) && err.code).toBe('BAD_CONFIG');
    expect(isFleetError(err) && err.context.source).toBe(join(tmp, 'jp', 'kernels', 'broken', 'kernel.json'));
  });

  it('leaves argv alone for a spec outside <prefix>/share/jupyter', async () => {
    const found = await findKernelspec('python3', { env: bareEnv });
    expect(await preferPrefixInterpreter(found)).toEqual(['fake-python', '-f', '{connection_file}']);
    const bare = { dir: join(tmp, 'jp', 'kernels', 'python3'), spec: { argv: ['python', '{connection_file}'] } };
    expect(await preferPrefixInterpreter(bare)).toEqual(['python', '{connection_file}']);
  });
});

describe('fallbackDataDirs', () => {
  it.each<[string, Record<string, string>, string | undefined, string[]]>([
    ['home only', { HOME: '/h' }, undefined, ['/h/.local/share/jupyter', '/usr/local/share/jupyter', '/usr/share/jupyter']],
    ['JUPYTER_PATH entries first', { HOME: '/h', JUPYTER_PATH: '/a::/b' }, undefined, ['/a', '/b', '/h/.local/share/jupyter', '/usr/local/share/jupyter', '/usr/share/jupyter']],
    ['JUPYTER_DATA_DIR replaces the user dir', { HOME: '/h', JUPYTER_DATA_DIR: '/d' }, '/p', ['/d', '/p/share/jupyter', '/usr/local/share/jupyter', '/usr/share/jupyter']],
    ['XDG_DATA_HOME', { HOME: '/h', XDG_DATA_HOME: '/x' }, undefined, ['/x/jupyter', '/usr/local/share/jupyter', '/usr/share/jupyter']],
    ['duplicates dropped', { HOME: '/h' }, '/usr', ['/h/.local/share/jupyter', '/usr/share/jupyter', '/usr/local/share/jupyter']],
  ])('%s', (_name, env, prefix, expected) => {
    expect(fallbackDataDirs(env, prefix)).toEqual(expected);
  });
});

describe('parseKernelspec', () => {
  it('keeps the fields the router uses', () => {
    const text = JSON.stringify({
      argv: ['k', '{connection_file}'],
      env: { A: '1' },
      interrupt_mode: 'message',
      language: 'lua',
      display_name: 'K',
      metadata: { llmspell: { runtime: 'lua' } },
      kernel_protocol_version: '5.3',
    });
    expect(parseKernelspec(text, 'k.json')).toEqual({
      argv: ['k', '{connection_file}'],
      env: { A: '1' },
      interrupt_mode: 'message',
      language: 'lua',
      display_name: 'K',
      metadata: { llmspell: { runtime: 'lua' } },
    });
  });

  it('ignores fields it does not use when they have an odd type, as Jupyter starts such kernels', () => {
    const text = JSON.stringify({ argv: ['k'], language: 3, display_name: null, metadata: 'x' });
    expect(parseKernelspec(text, 'k.json')).toEqual({ argv: ['k'] });
    expect(Object.keys(parseKernelspec(text, 'k.json'))).toEqual(['argv']);
  });

  it.each([
    ['not JSON', '{', 'is not valid JSON'],
    ['not an object', '[]', 'must hold a JSON object (got an empty array)'],
    ['no argv', '{}', 'argv is missing: it must be a non-empty array of strings'],
    ['empty argv', '{"argv": []}', 'argv must be a non-empty array of strings (got an empty array)'],
    ['argv with a number', '{"argv": ["a", 1]}', 'argv[1] must be a string (got 1)'],
    ['env with a number', '{"argv": ["a"], "env": {"A": 1}}', 'env.A must be a string, not number'],
    ['env as an array', '{"argv": ["a"], "env": ["A=1"]}', 'env must be an object of strings (got an array)'],
    ['bad interrupt_mode', '{"argv": ["a"], "interrupt_mode": "kill"}', 'interrupt_mode must be one of "signal", "message" (got "kill")'],
  ])('%s -> BAD_CONFIG naming the file, the field and what is allowed', (_name, text, message) => {
    expect(() => parseKernelspec(text, '/k/kernel.json')).toThrow(`/k/kernel.json: ${message}; fix or reinstall this kernelspec`);
  });
});
