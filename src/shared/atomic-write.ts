import { randomBytes } from 'node:crypto';
import { chmod, rename, rm, writeFile } from 'node:fs/promises';

/**
 * Writes to a temporary name then renames, mode 0600: a reader sees the old file or the new one,
 * never half of one, and never a moment where a key it may not read is readable. The temporary
 * name is unique per call, so two overlapping writes of one path never share (and steal) it;
 * callers that need the last write to win still serialise their writes.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode: 0o600 });
    // The mode given to writeFile is filtered by the umask; the file must be 0600 whatever it is.
    await chmod(tmp, 0o600);
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
