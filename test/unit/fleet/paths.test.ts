import { chown, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import { backendDir, configPath, ensurePrivateDir, expandHome, fleetHome, kernelCopyDir, logDir } from '../../../src/fleet/paths.js';

describe('kernelCopyDir', () => {
  it.each([
    ['/h/backends/py-openai-0a1b2c3d.json', '/h/backends/py-openai-0a1b2c3d.d'],
    ['/h/backends/k.json.json', '/h/backends/k.json.d'],
    ['/h/backends/no-extension', '/h/backends/no-extension.d'],
  ])('%s -> %s', (file, dir) => {
    expect(kernelCopyDir(file)).toBe(dir);
  });
});

describe('expandHome', () => {
  it.each([
    ['~', '/home/u'],
    ['~/a/b', '/home/u/a/b'],
    ['/abs/~/x', '/abs/~/x'],
    ['rel/x', 'rel/x'],
    ['~other/x', '~other/x'],
  ])('%s -> %s', (input, expected) => {
    expect(expandHome(input, '/home/u')).toBe(expected);
  });
});

describe('fleetHome / configPath', () => {
  it.each([
    [{ HOME: '/h' }, '/h/.llmspell/fleet', '/h/.llmspell/fleet/fleet.toml'],
    [{ HOME: '/h', LLMSPELL_FLEET_HOME: '/srv/fleet' }, '/srv/fleet', '/srv/fleet/fleet.toml'],
    [{ HOME: '/h', LLMSPELL_FLEET_HOME: '~/f' }, '/h/f', '/h/f/fleet.toml'],
    [{ HOME: '/h', LLMSPELL_FLEET_HOME: '' }, '/h/.llmspell/fleet', '/h/.llmspell/fleet/fleet.toml'],
    [{ HOME: '/h', LLMSPELL_FLEET_CONFIG: '/etc/f.toml' }, '/h/.llmspell/fleet', '/etc/f.toml'],
    [{ HOME: '/h', LLMSPELL_FLEET_CONFIG: '~/c.toml', LLMSPELL_FLEET_HOME: '/x' }, '/x', '/h/c.toml'],
  ])('%j', (env, home, config) => {
    expect(fleetHome(env)).toBe(home);
    expect(configPath(env)).toBe(config);
  });

  it('lays out backends and logs under the home', () => {
    expect(backendDir('/h/f')).toBe('/h/f/backends');
    expect(logDir('/h/f')).toBe('/h/f/logs');
  });
});

describe('ensurePrivateDir', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fleet-paths-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('creates missing dirs, parents included, with mode 0700', async () => {
    const target = join(tmp, 'a', 'b');
    await expect(ensurePrivateDir(target)).resolves.toBe(target);
    expect((await stat(target)).mode & 0o777).toBe(0o700);
    expect((await stat(join(tmp, 'a'))).mode & 0o777).toBe(0o700);
  });

  it('tightens an existing dir of ours to 0700', async () => {
    const target = join(tmp, 'open');
    await mkdir(target, { mode: 0o755 });
    await ensurePrivateDir(target);
    expect((await stat(target)).mode & 0o777).toBe(0o700);
  });

  it('refuses a file in the way', async () => {
    const target = join(tmp, 'file');
    await writeFile(target, 'x');
    const err = await ensurePrivateDir(target).catch((e: unknown) => e);
    expect(isFleetError(err) && err.code).toBe('BAD_CONFIG');
    expect(isFleetError(err) && err.context.path).toBe(target);
  });

  // Only root can hand a directory to another user, so only root can build this case.
  it.runIf(process.getuid?.() === 0)('refuses a dir owned by someone else', async () => {
    const target = join(tmp, 'theirs');
    await mkdir(target, { mode: 0o755 });
    await chown(target, 65534, 65534);
    const err = await ensurePrivateDir(target).catch((e: unknown) => e);
    expect(isFleetError(err) && err.code).toBe('BAD_CONFIG');
    expect(isFleetError(err) && err.context.owner).toBe(65534);
    expect((await stat(target)).mode & 0o777).toBe(0o755);
  });
});
