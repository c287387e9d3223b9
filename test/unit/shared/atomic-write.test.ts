import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../../src/shared/atomic-write.js';

describe('writeFileAtomic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleet-atomic-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('replaces the file, leaves it 0600 even if it was wider, and no temporary file behind', async () => {
    const file = join(dir, 'registry.json');
    await writeFile(file, 'old', { mode: 0o644 });
    await writeFileAtomic(file, 'new');
    expect(await readFile(file, 'utf8')).toBe('new');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['registry.json']);
  });

  it('overlapping writes of one path each land whole, with no temporary file left', async () => {
    const file = join(dir, 'many.json');
    const texts = Array.from({ length: 20 }, (_, i) => `write ${i} `.repeat(1000));
    await Promise.all(texts.map((t) => writeFileAtomic(file, t)));
    expect(texts).toContain(await readFile(file, 'utf8'));
    expect((await readdir(dir)).filter((f) => f.startsWith('many.json'))).toEqual(['many.json']);
  });

  it('rejects and removes its temporary file when the rename cannot happen', async () => {
    const target = join(dir, 'a-directory');
    await rm(target, { recursive: true, force: true });
    await mkdir(join(target, 'child'), { recursive: true });
    await expect(writeFileAtomic(target, 'x')).rejects.toMatchObject({ code: expect.stringMatching(/EISDIR|ENOTEMPTY|EEXIST/) });
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
