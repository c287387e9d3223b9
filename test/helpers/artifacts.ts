/**
 * Test artifacts (screenshots, terminal transcripts, timings) under test-artifacts/ at the
 * repository root (gitignored), one directory per test subject, emptied when a run starts so
 * that what is there belongs to the last run. CI uploads the directory.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from './e2e.js';

export const ARTIFACTS_ROOT = join(REPO_ROOT, 'test-artifacts');

/** test-artifacts/<subject>/, fresh. */
export async function freshArtifactsDir(subject: string): Promise<string> {
  const dir = join(ARTIFACTS_ROOT, subject);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

export async function writeJsonArtifact(dir: string, name: string, value: unknown): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(value, null, 2) + '\n');
  return file;
}
