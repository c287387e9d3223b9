import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  type InstallScope,
  type ScopeFlags,
  dataDirFor,
  defaultCliPath,
  defaultResourcesDir,
  defaultRouterEntry,
  detectSysPrefix,
  kernelDirFor,
  resolveScope,
  sysPrefixFromEnv,
} from '../../../src/kernelspec/paths.js';
import { type HostContext, userDataDir } from '../../../src/shared/jupyter-paths.js';
import { isFleetError } from '../../../src/shared/errors.js';

async function codeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (error) {
    return isFleetError(error) ? error.code : `not a FleetError: ${String(error)}`;
  }
  return undefined;
}

const linux = (env: HostContext['env'] = {}): HostContext => ({ env, platform: 'linux', home: '/home/ada', cwd: '/work' });
const darwin = (env: HostContext['env'] = {}): HostContext => ({ env, platform: 'darwin', home: '/Users/ada', cwd: '/work' });
const win32 = (env: HostContext['env'] = {}): HostContext => ({ env, platform: 'win32', home: 'C:\\Users\\ada', cwd: 'C:\\work' });

describe('resolveScope', () => {
  it.each<[ScopeFlags, InstallScope]>([
    [{}, { kind: 'user' }],
    [{ user: true }, { kind: 'user' }],
    [{ user: false }, { kind: 'user' }],
    [{ prefix: '/opt/env' }, { kind: 'prefix', prefix: '/opt/env' }],
    [{ prefix: 'relative/env' }, { kind: 'prefix', prefix: 'relative/env' }],
    [{ sysPrefix: true }, { kind: 'sys-prefix' }],
  ])('%j → %j', (flags, expected) => {
    expect(resolveScope(flags)).toEqual(expected);
  });

  it.each<[ScopeFlags, string[]]>([
    [{ user: true, prefix: '/x' }, ['--user', '--prefix']],
    [{ user: true, sysPrefix: true }, ['--user', '--sys-prefix']],
    [{ prefix: '/x', sysPrefix: true }, ['--prefix', '--sys-prefix']],
    [{ user: true, prefix: '/x', sysPrefix: true }, ['--user', '--prefix', '--sys-prefix']],
  ])('rejects %j, naming the clashing flags', (flags, clashing) => {
    try {
      resolveScope(flags);
      expect.unreachable();
    } catch (error) {
      expect(isFleetError(error) && error.code).toBe('BAD_INSTALL_OPTIONS');
      expect(isFleetError(error) && error.context).toEqual({ flags: clashing });
    }
  });

  it('rejects an empty --prefix', async () => {
    expect(await codeOf(() => resolveScope({ prefix: ' ' }))).toBe('BAD_INSTALL_OPTIONS');
  });
});

describe('userDataDir (jupyter_core jupyter_data_dir)', () => {
  it.each<[string, HostContext, string]>([
    ['linux default', linux(), '/home/ada/.local/share/jupyter'],
    ['linux XDG_DATA_HOME', linux({ XDG_DATA_HOME: '/xdg' }), '/xdg/jupyter'],
    ['linux empty XDG_DATA_HOME is unset', linux({ XDG_DATA_HOME: '' }), '/home/ada/.local/share/jupyter'],
    ['JUPYTER_DATA_DIR wins over XDG', linux({ JUPYTER_DATA_DIR: '/jd', XDG_DATA_HOME: '/xdg' }), '/jd'],
    ['empty JUPYTER_DATA_DIR is unset', linux({ JUPYTER_DATA_DIR: '' }), '/home/ada/.local/share/jupyter'],
    ['linux JUPYTER_PLATFORM_DIRS is the same XDG answer', linux({ JUPYTER_PLATFORM_DIRS: '1', XDG_DATA_HOME: '/xdg' }), '/xdg/jupyter'],
    ['macOS default', darwin(), '/Users/ada/Library/Jupyter'],
    ['macOS ignores XDG_DATA_HOME', darwin({ XDG_DATA_HOME: '/xdg' }), '/Users/ada/Library/Jupyter'],
    ['macOS JUPYTER_PLATFORM_DIRS=1', darwin({ JUPYTER_PLATFORM_DIRS: '1' }), '/Users/ada/Library/Application Support/jupyter'],
    ['macOS JUPYTER_PLATFORM_DIRS="" counts as set', darwin({ JUPYTER_PLATFORM_DIRS: '' }), '/Users/ada/Library/Application Support/jupyter'],
    ['macOS JUPYTER_PLATFORM_DIRS=Off', darwin({ JUPYTER_PLATFORM_DIRS: 'Off' }), '/Users/ada/Library/Jupyter'],
    ['macOS JUPYTER_DATA_DIR', darwin({ JUPYTER_DATA_DIR: '/jd' }), '/jd'],
    ['Windows APPDATA', win32({ APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }), 'C:\\Users\\ada\\AppData\\Roaming\\jupyter'],
    ['Windows without APPDATA', win32(), 'C:\\Users\\ada\\.jupyter\\data'],
    ['Windows JUPYTER_CONFIG_DIR', win32({ JUPYTER_CONFIG_DIR: 'D:\\cfg' }), 'D:\\cfg\\data'],
    [
      'Windows JUPYTER_PLATFORM_DIRS',
      win32({ JUPYTER_PLATFORM_DIRS: 'yes', LOCALAPPDATA: 'C:\\L', APPDATA: 'C:\\R' }),
      'C:\\L\\jupyter',
    ],
  ])('%s', (_title, host, expected) => {
    expect(userDataDir(host)).toBe(expected);
  });
});

describe('dataDirFor', () => {
  it.each<[string, InstallScope, HostContext, string | undefined, string]>([
    ['user', { kind: 'user' }, linux({ JUPYTER_DATA_DIR: '/jd' }), undefined, '/jd'],
    ['absolute prefix', { kind: 'prefix', prefix: '/opt/env' }, linux(), undefined, '/opt/env/share/jupyter'],
    ['relative prefix, against cwd', { kind: 'prefix', prefix: 'env' }, linux(), undefined, '/work/env/share/jupyter'],
    ['prefix with ..', { kind: 'prefix', prefix: '/opt/a/../env/' }, linux(), undefined, '/opt/env/share/jupyter'],
    ['sys-prefix', { kind: 'sys-prefix' }, linux(), '/venv', '/venv/share/jupyter'],
    ['Windows prefix', { kind: 'prefix', prefix: 'D:\\env' }, win32(), undefined, 'D:\\env\\share\\jupyter'],
  ])('%s', (_title, scope, host, sysPrefix, expected) => {
    expect(dataDirFor(scope, host, sysPrefix)).toBe(expected);
  });

  it('needs the detected prefix for sys-prefix', async () => {
    expect(await codeOf(() => dataDirFor({ kind: 'sys-prefix' }, linux()))).toBe('INSTALL_FAILED');
  });
});

describe('kernelDirFor', () => {
  it.each<[string, string, NodeJS.Platform, string]>([
    ['/jd', 'llmspell-fleet', 'linux', '/jd/kernels/llmspell-fleet'],
    ['C:\\jd', 'llmspell-fleet-lua', 'win32', 'C:\\jd\\kernels\\llmspell-fleet-lua'],
  ])('%s + %s', (dataDir, name, platform, expected) => {
    expect(kernelDirFor(dataDir, name, platform)).toBe(expected);
  });
});

describe('sys prefix', () => {
  it.each<[HostContext['env'], string | undefined]>([
    [{ VIRTUAL_ENV: '/venv' }, '/venv'],
    [{ VIRTUAL_ENV: '' }, undefined],
    [{}, undefined],
  ])('sysPrefixFromEnv(%j) → %s', (env, expected) => {
    expect(sysPrefixFromEnv(env)).toBe(expected);
  });

  it('uses VIRTUAL_ENV without running anything', async () => {
    // A python that does not exist proves no process was needed.
    expect(await detectSysPrefix({ env: { VIRTUAL_ENV: '/venv' }, python: '/nonexistent/python3' })).toBe('/venv');
  });

  it('fails with INSTALL_FAILED naming the python when it cannot be run', async () => {
    try {
      await detectSysPrefix({ env: { PATH: '/nonexistent' }, python: '/nonexistent/python3' });
      expect.unreachable();
    } catch (error) {
      expect(isFleetError(error) && error.code).toBe('INSTALL_FAILED');
      expect(isFleetError(error) && error.context).toEqual({ python: '/nonexistent/python3' });
    }
  });
});

describe('package layout', () => {
  const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

  it('derives the built CLI and the logo folder from the root', () => {
    expect(defaultCliPath(repoRoot)).toBe(path.join(repoRoot, 'dist', 'src', 'cli', 'main.js'));
    expect(defaultRouterEntry(repoRoot)).toBe(path.join(repoRoot, 'dist', 'bundle', 'main.js'));
    expect(defaultResourcesDir(repoRoot)).toBe(path.join(repoRoot, 'kernelspec'));
  });
});
