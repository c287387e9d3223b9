import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type InstallOptions, installKernelSpec, uninstallKernelSpec } from '../../../src/kernelspec/install.js';
import type { HostContext } from '../../../src/shared/jupyter-paths.js';
import { LOGO_FILES } from '../../../src/kernelspec/spec.js';
import { type FleetError, isFleetError } from '../../../src/shared/errors.js';
import { ROUTER_KERNEL_ENV } from '../../../src/shared/extra-ca-certs.js';

const shippedLogos = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../kernelspec');

async function failure(promise: Promise<unknown>): Promise<FleetError> {
  try {
    await promise;
  } catch (error) {
    if (isFleetError(error)) return error;
    throw error;
  }
  throw new Error('expected a FleetError, but the call succeeded');
}

let root: string;
let host: HostContext;
let cliPath: string;
let prefix: string;
let dataDir: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'fleet-install-'));
  // The CLI only has to exist for install; a stand-in keeps this test independent of a build.
  cliPath = path.join(root, 'main.js');
  writeFileSync(cliPath, '// stand-in for dist/src/cli/main.js\n');
  prefix = path.join(root, 'prefix');
  dataDir = path.join(prefix, 'share', 'jupyter');
  host = { env: { JUPYTER_DATA_DIR: path.join(root, 'user-data') }, platform: process.platform, home: root, cwd: root };
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** No stub unless a test makes one: the router's own command line, as on a machine without a C compiler. */
const stubPath = (): string => path.join(root, 'kernel-stub');

function install(options: Partial<InstallOptions> = {}) {
  return installKernelSpec({ host, cliPath, stubPath: stubPath(), scope: { kind: 'prefix', prefix }, ...options });
}

const readSpec = (kernelDir: string): unknown => JSON.parse(readFileSync(path.join(kernelDir, 'kernel.json'), 'utf8'));

describe('installKernelSpec', () => {
  it('writes kernel.json with an absolute argv and copies the logos', async () => {
    const result = await install();
    const kernelDir = path.join(dataDir, 'kernels', 'llmspell-fleet');
    expect(result.name).toBe('llmspell-fleet');
    expect(result.kernelDir).toBe(kernelDir);
    expect(readSpec(kernelDir)).toStrictEqual({
      argv: [process.execPath, cliPath, 'router', '--connection-file', '{connection_file}', '--spec-dir', '{resource_dir}'],
      display_name: 'LLMSpell Fleet',
      language: 'lua',
      interrupt_mode: 'message',
      env: ROUTER_KERNEL_ENV,
      metadata: { llmspell: {}, debugger: false },
    });
    expect(readSpec(kernelDir)).toStrictEqual(result.spec);
    for (const logo of LOGO_FILES) {
      expect(readFileSync(path.join(kernelDir, logo)).equals(readFileSync(path.join(shippedLogos, logo)))).toBe(true);
    }
    expect(readdirSync(kernelDir).sort()).toEqual(['kernel.json', ...LOGO_FILES].sort());
    // Jupyter may read it as another user; it holds no secret.
    expect(statSync(path.join(kernelDir, 'kernel.json')).mode & 0o777).toBe(0o644);
  });

  it('installs for the user into JUPYTER_DATA_DIR by default', async () => {
    const result = await installKernelSpec({ host, cliPath, stubPath: stubPath() });
    expect(result.kernelDir).toBe(path.join(root, 'user-data', 'kernels', 'llmspell-fleet'));
    expect(existsSync(path.join(result.kernelDir, 'kernel.json'))).toBe(true);
  });

  it('installs into VIRTUAL_ENV for sys-prefix', async () => {
    const venv = path.join(root, 'venv');
    const result = await installKernelSpec({ host: { ...host, env: { VIRTUAL_ENV: venv } }, cliPath, scope: { kind: 'sys-prefix' } });
    expect(result.kernelDir).toBe(path.join(venv, 'share', 'jupyter', 'kernels', 'llmspell-fleet'));
  });

  it('installs an alias under its derived name with runtime and provider in argv and metadata', async () => {
    const result = await install({ runtime: 'ipykernel', provider: 'openai' });
    expect(result.kernelDir).toBe(path.join(dataDir, 'kernels', 'llmspell-fleet-ipykernel-openai'));
    const spec = readSpec(result.kernelDir) as { argv: string[]; display_name: string; metadata: unknown };
    expect(spec.argv.slice(-4)).toEqual(['--runtime', 'ipykernel', '--provider', 'openai']);
    expect(spec.display_name).toBe('LLMSpell Fleet (ipykernel, openai)');
    expect(spec.metadata).toEqual({ llmspell: { runtime: 'ipykernel', provider: 'openai' }, debugger: false });
  });

  it('lowercases the name like Jupyter does', async () => {
    const result = await install({ name: 'My-Fleet' });
    expect(result.name).toBe('my-fleet');
    expect(readdirSync(path.join(dataDir, 'kernels'))).toEqual(['my-fleet']);
  });

  it('replaces its own earlier install and leaves no staging folder behind', async () => {
    await install({ displayName: 'First' });
    const result = await install({ displayName: 'Second' });
    expect((readSpec(result.kernelDir) as { display_name: string }).display_name).toBe('Second');
    expect(readdirSync(dataDir)).toEqual(['kernels']);
  });

  it('refuses to replace a kernelspec it did not write', async () => {
    const foreignDir = path.join(dataDir, 'kernels', 'python3');
    mkdirSync(foreignDir, { recursive: true });
    const foreign = JSON.stringify({ argv: ['python', '-m', 'ipykernel_launcher', '-f', '{connection_file}'], language: 'python' });
    writeFileSync(path.join(foreignDir, 'kernel.json'), foreign);
    const error = await failure(install({ name: 'python3' }));
    expect(error.code).toBe('FOREIGN_KERNELSPEC');
    expect(error.context).toEqual({ name: 'python3', kernelDir: foreignDir });
    expect(readFileSync(path.join(foreignDir, 'kernel.json'), 'utf8')).toBe(foreign);
  });

  it('writes nothing for a bad name', async () => {
    const error = await failure(install({ name: 'bad name' }));
    expect(error.code).toBe('BAD_KERNEL_NAME');
    expect(existsSync(prefix)).toBe(false);
  });

  it('fails with INSTALL_FAILED when the built CLI is missing, and writes nothing', async () => {
    const missing = path.join(root, 'dist', 'src', 'cli', 'main.js');
    const error = await failure(install({ cliPath: missing }));
    expect(error.code).toBe('INSTALL_FAILED');
    expect(error.context).toEqual({ cliPath: missing });
    expect(existsSync(prefix)).toBe(false);
  });

  it('rejects a relative CLI path, which would break when Jupyter starts from another directory', async () => {
    expect((await failure(install({ cliPath: 'dist/src/cli/main.js' }))).code).toBe('BAD_INSTALL_OPTIONS');
  });

  it('fails without the PNG logos and leaves neither the kernel nor a staging folder', async () => {
    const empty = path.join(root, 'no-logos');
    mkdirSync(empty);
    const error = await failure(install({ resourcesDir: empty }));
    expect(error.code).toBe('INSTALL_FAILED');
    expect(error.context).toMatchObject({ errno: 'ENOENT' });
    expect(readdirSync(dataDir)).toEqual([]);
  });

  it('installs without the optional SVG logo', async () => {
    const pngsOnly = path.join(root, 'pngs');
    mkdirSync(pngsOnly);
    for (const logo of ['logo-32x32.png', 'logo-64x64.png']) {
      writeFileSync(path.join(pngsOnly, logo), readFileSync(path.join(shippedLogos, logo)));
    }
    const result = await install({ resourcesDir: pngsOnly });
    expect(readdirSync(result.kernelDir).sort()).toEqual(['kernel.json', 'logo-32x32.png', 'logo-64x64.png']);
  });

  it('reports an unwritable location as INSTALL_FAILED with the errno', async () => {
    const file = path.join(root, 'a-file');
    writeFileSync(file, '');
    const error = await failure(install({ scope: { kind: 'prefix', prefix: file } }));
    expect(error.code).toBe('INSTALL_FAILED');
    expect(error.context).toMatchObject({ errno: 'ENOTDIR' });
  });
});

describe('installKernelSpec for the llmspell kernelspec', () => {
  it('writes the adapter kernelspec under "llmspell", with the logos', async () => {
    const result = await install({ llmspell: {} });
    expect(result.kernelDir).toBe(path.join(dataDir, 'kernels', 'llmspell'));
    expect(readSpec(result.kernelDir)).toStrictEqual({
      argv: [
        process.execPath, cliPath, 'llmspell-adapter', '--connection-file', '{connection_file}', '--',
        'llmspell', 'kernel', 'start', '--port', '0', '--connection-file', '{llmspell_connection_file}',
      ],
      display_name: 'LLMSpell (Lua)',
      language: 'lua',
      interrupt_mode: 'message',
      metadata: { llmspell: { adapter: 'llmspell' }, debugger: false },
    });
    expect(readdirSync(result.kernelDir).sort()).toEqual(['kernel.json', ...LOGO_FILES].sort());
  });

  it('stores a relative --llmspell-config as the absolute path it meant at install time', async () => {
    writeFileSync(path.join(root, 'llmspell.toml'), '');
    const result = await install({ llmspell: { config: 'llmspell.toml' } });
    const spec = readSpec(result.kernelDir) as { argv: string[]; metadata: unknown };
    expect(spec.argv).toContain(path.join(root, 'llmspell.toml'));
    expect(spec.metadata).toEqual({ llmspell: { adapter: 'llmspell', config: path.join(root, 'llmspell.toml') }, debugger: false });
  });

  it.each([
    ['a missing config file', 'missing.toml'],
    ['a directory as config file', '.'],
  ])('refuses %s and writes nothing', async (_title, config) => {
    const error = await failure(install({ llmspell: { config } }));
    expect(error.code).toBe('BAD_INSTALL_OPTIONS');
    expect(error.context).toEqual({ option: 'llmspellConfig', value: path.resolve(root, config) });
    expect(existsSync(prefix)).toBe(false);
  });

  it('refuses runtime or provider, which belong to fleet kernelspecs', async () => {
    expect((await failure(install({ llmspell: {}, runtime: 'lua' }))).code).toBe('BAD_INSTALL_OPTIONS');
  });

  it('is removed by uninstall with llmspell set, and leaves the fleet kernelspec alone', async () => {
    const installed = await install({ llmspell: { profile: 'ollama' } });
    await install();
    const result = await uninstallKernelSpec({ host, scope: { kind: 'prefix', prefix }, llmspell: {} });
    expect(result).toEqual({ name: 'llmspell', kernelDir: installed.kernelDir });
    expect(readdirSync(path.join(dataDir, 'kernels'))).toEqual(['llmspell-fleet']);
  });
});

describe('uninstallKernelSpec', () => {
  it('removes what install wrote', async () => {
    const installed = await install();
    const result = await uninstallKernelSpec({ host, scope: { kind: 'prefix', prefix } });
    expect(result).toEqual({ name: 'llmspell-fleet', kernelDir: installed.kernelDir });
    expect(existsSync(installed.kernelDir)).toBe(false);
  });

  it('finds an alias from --runtime/--provider', async () => {
    const installed = await install({ runtime: 'tslab', provider: 'anthropic' });
    await install();
    const result = await uninstallKernelSpec({ host, scope: { kind: 'prefix', prefix }, runtime: 'tslab', provider: 'anthropic' });
    expect(result.kernelDir).toBe(installed.kernelDir);
    expect(readdirSync(path.join(dataDir, 'kernels'))).toEqual(['llmspell-fleet']);
  });

  it('fails with KERNELSPEC_NOT_FOUND saying where it looked', async () => {
    const error = await failure(uninstallKernelSpec({ host, scope: { kind: 'prefix', prefix } }));
    const kernelDir = path.join(dataDir, 'kernels', 'llmspell-fleet');
    expect(error.code).toBe('KERNELSPEC_NOT_FOUND');
    expect(error.context).toEqual({ name: 'llmspell-fleet', kernelDir });
    expect(error.message).toContain(kernelDir);
  });

  it.each([
    ['a foreign kernel.json', JSON.stringify({ argv: ['python'], language: 'python' })],
    ['an unparseable kernel.json', '{ not json'],
    ['no kernel.json', undefined],
  ])('leaves %s alone', async (_title, content) => {
    const dir = path.join(dataDir, 'kernels', 'llmspell-fleet');
    mkdirSync(dir, { recursive: true });
    if (content !== undefined) writeFileSync(path.join(dir, 'kernel.json'), content);
    const error = await failure(uninstallKernelSpec({ host, scope: { kind: 'prefix', prefix } }));
    expect(error.code).toBe('FOREIGN_KERNELSPEC');
    expect(existsSync(dir)).toBe(true);
  });

  it('checks the name before touching anything', async () => {
    expect((await failure(uninstallKernelSpec({ host, name: '../kernels' }))).code).toBe('BAD_KERNEL_NAME');
  });
});

describe('installKernelSpec: router mode', () => {
  const routerArgv = (): string[] => [process.execPath, cliPath, 'router', '--connection-file', '{connection_file}', '--spec-dir', '{resource_dir}'];
  /** A stand-in stub: exit 2 is the real stub's usage exit, which install checks for; another code is a stub that does not run here. */
  const makeStub = (mode: number, exitCode = 2): void => {
    writeFileSync(stubPath(), `#!/bin/sh\nexit ${exitCode}\n`);
    chmodSync(stubPath(), mode);
  };

  it.each([
    ['a built stub, no mode asked: shared', 0o755, undefined, 'shared'],
    ['a built stub, process asked: process', 0o755, 'process', 'process'],
    ['no stub, no mode asked: process', undefined, undefined, 'process'],
    ['a stub that is not executable counts as none', 0o644, undefined, 'process'],
    ['a stub that does not run here (built elsewhere) counts as none', 0o755, undefined, 'process', 126],
  ] as const)('%s', async (_name, stubMode, asked, expected, exitCode?: number) => {
    if (stubMode !== undefined) makeStub(stubMode, exitCode);
    const result = await install({ routerMode: asked });
    expect(result.routerMode).toBe(expected);
    const argv = expected === 'shared' ? [stubPath(), ...routerArgv()] : routerArgv();
    expect((readSpec(result.kernelDir) as { argv: string[] }).argv).toStrictEqual(argv);
  });

  it('asking for shared without a stub says how to get one and writes nothing', async () => {
    const error = await failure(install({ routerMode: 'shared' }));
    expect(error.code).toBe('INSTALL_FAILED');
    expect(error.message).toContain(stubPath());
    expect(error.message).toContain('--router-mode process');
    expect(existsSync(path.join(dataDir, 'kernels', 'llmspell-fleet'))).toBe(false);
  });

  it('an unknown mode is a bad option naming the modes', async () => {
    const error = await failure(install({ routerMode: 'thread' as never }));
    expect(error.code).toBe('BAD_INSTALL_OPTIONS');
    expect(error.message).toContain('use shared or process');
  });

  it('the llmspell kernelspec runs no router, so no stub either', async () => {
    makeStub(0o755);
    const result = await install({ llmspell: {} });
    expect(result.routerMode).toBeUndefined();
    expect((readSpec(result.kernelDir) as { argv: string[] }).argv[0]).toBe(process.execPath);
  });
});
