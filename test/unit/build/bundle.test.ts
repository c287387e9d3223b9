/**
 * scripts/bundle.mjs, the build step that writes the bundled router entry: what it leaves
 * external, and that a failed or unsafe bundle fails the build instead of leaving a stale or
 * broken one for the kernelspec to run. Bundles small fixtures with the real esbuild.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUNDLED_PACKAGES, bundle, commonJsInputs, externalPackages } from '../../../scripts/bundle.mjs';
import { requirePackageRoot } from '../../../src/shared/package.js';
import { runToExit } from '../../helpers/run.js';

describe('externalPackages', () => {
  it.each([
    ['every dependency but the bundled ones, sorted', { dependencies: { zeromq: '6', valibot: '1', pino: '10' } }, ['pino', 'zeromq']],
    ['optional dependencies too', { dependencies: { 'smol-toml': '1' }, optionalDependencies: { tslab: '1' } }, ['tslab']],
    ['none', {}, []],
  ])('%s', (_name, manifest, expected) => {
    expect(externalPackages(manifest)).toEqual(expected);
  });

  it("bundles only this package's ES module dependencies", () => {
    expect([...BUNDLED_PACKAGES].sort()).toEqual(['smol-toml', 'valibot']);
  });
});

describe('commonJsInputs', () => {
  it.each([
    ['none', { 'a.js': { format: 'esm' as const }, 'b.js': {} }, []],
    ['the CommonJS ones, sorted', { 'z.cjs': { format: 'cjs' as const }, 'a.js': { format: 'esm' as const }, 'm/index.js': { format: 'cjs' as const } }, ['m/index.js', 'z.cjs']],
  ])('%s', (_name, inputs, expected) => {
    expect(commonJsInputs({ inputs })).toEqual(expected);
  });
});

describe('bundle', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'fleet-bundle-'));
    writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'fixture', type: 'module', dependencies: { external: '1' } }));
    mkdirSync(path.join(root, 'src'));
    writeFileSync(path.join(root, 'src', 'lazy.js'), 'export const answer = 42;\n');
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  const write = (file: string, text: string) => writeFileSync(path.join(root, file), text);

  it('replaces the whole output folder and keeps a dynamic import in a chunk of its own', async () => {
    write('src/main.js', "const { answer } = await import('./lazy.js');\nprocess.stdout.write(String(answer));\n");
    mkdirSync(path.join(root, 'out'));
    write('out/chunk-STALE.js', '// from an earlier build\n');

    const result = await bundle({ root, entry: 'src/main.js', outdir: 'out' });

    const js = readdirSync(path.join(root, 'out')).filter((f) => f.endsWith('.js'));
    expect(js).not.toContain('chunk-STALE.js');
    expect(js).toContain('main.js');
    expect(js.filter((f) => f.startsWith('lazy-'))).toHaveLength(1);
    expect(result.files).toEqual(expect.arrayContaining(['main.js', ...js]));
    const run = await runToExit(process.execPath, [path.join(root, 'out', 'main.js')], { env: process.env });
    expect(run.stdout).toBe('42');
  });

  it('rejects with esbuild\'s error when a module cannot be resolved', async () => {
    write('src/main.js', "import './missing.js';\n");
    await expect(bundle({ root, entry: 'src/main.js', outdir: 'out' })).rejects.toThrow(/missing\.js/);
  });

  it('rejects a bundle that took in CommonJS, naming the file, and leaves no output', async () => {
    write('src/legacy.cjs', "module.exports = require('node:os').EOL;\n");
    write('src/main.js', "import eol from './legacy.cjs';\nprocess.stdout.write(eol);\n");
    await expect(bundle({ root, entry: 'src/main.js', outdir: 'out' })).rejects.toThrow(/CommonJS bundled into out.*src\/legacy\.cjs/);
    expect(existsSync(path.join(root, 'out'))).toBe(false);
  });

  it('leaves an external package as an import for node to resolve', async () => {
    write('src/main.js', "import { x } from 'external';\nprocess.stdout.write(x);\n");
    await bundle({ root, entry: 'src/main.js', outdir: 'out' });
    expect(readdirSync(path.join(root, 'out')).filter((f) => f.endsWith('.js'))).toEqual(['main.js']);
  });
});

describe('scripts/bundle.mjs run as the build step', () => {
  it('exits 1 and says which step failed when esbuild fails', async () => {
    // A copy of the script in a package whose entry is missing: the real build's inputs stay untouched.
    const root = mkdtempSync(path.join(tmpdir(), 'fleet-bundle-cli-'));
    try {
      mkdirSync(path.join(root, 'scripts'));
      writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'fixture', type: 'module' }));
      const repo = requirePackageRoot();
      copyFileSync(path.join(repo, 'scripts', 'bundle.mjs'), path.join(root, 'scripts', 'bundle.mjs'));
      // The copy imports esbuild from its own location: give it the repository's node_modules.
      symlinkSync(path.join(repo, 'node_modules'), path.join(root, 'node_modules'));
      const result = await runToExit(process.execPath, [path.join(root, 'scripts', 'bundle.mjs')], { env: process.env });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('bundling dist/src/cli/main.js into dist/bundle failed');
      expect(result.stderr).toContain('dist/src/cli/main.js');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
