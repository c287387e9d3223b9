import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import { VERSION, packageRoot, requirePackageRoot } from '../../../src/shared/package.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const scratch = mkdtempSync(path.join(tmpdir(), 'fleet-package-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('packageRoot', () => {
  it.each([
    ['this module (src/shared in a checkout)', undefined, repoRoot],
    ['a built file below dist/', path.join(repoRoot, 'dist', 'src', 'fleet', 'plan.js'), repoRoot],
    ['a file: URL', pathToFileURL(path.join(repoRoot, 'src', 'cli', 'main.ts')).href, repoRoot],
    ['the file-system root', 'file:///', undefined],
    ['a directory outside the package', path.join(scratch, 'somewhere', 'file.js'), undefined],
  ])('from %s', (_name, from, root) => {
    expect(from === undefined ? packageRoot() : packageRoot(from)).toBe(root);
  });

  it('requirePackageRoot fails with INSTALL_FAILED outside the package', () => {
    const from = path.join(scratch, 'somewhere', 'file.js');
    try {
      requirePackageRoot(from);
      expect.unreachable('requirePackageRoot returned outside the package');
    } catch (error) {
      expect(isFleetError(error) && error.code).toBe('INSTALL_FAILED');
      expect(isFleetError(error) && error.context).toEqual({ from });
    }
  });
});

describe('VERSION', () => {
  it('is the version in package.json', () => {
    expect(VERSION).toBe((JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
  });
});
