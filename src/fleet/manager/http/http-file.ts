/**
 * `<home>/http.json`: where the manager's HTTP API listens and the token it wants. 0600 in a
 * 0700 home, written atomically, removed when the manager exits: a file that is there names a
 * manager that answers (or one that was killed; the next one overwrites it).
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../../shared/atomic-write.js';

export interface HttpInfo {
  /** Base URL, e.g. http://127.0.0.1:39000 (the API is under /api/v1). */
  url: string;
  token: string;
  pid: number;
}

export function httpInfoPath(home: string): string {
  return join(home, 'http.json');
}

/**
 * `<home>/http.token`: the token alone, for clients that read a bearer token from a file and
 * cannot parse JSON (Prometheus's `credentials_file` when /metrics needs it). Same 0600.
 */
export function httpTokenPath(home: string): string {
  return join(home, 'http.token');
}

export async function writeHttpInfo(home: string, info: HttpInfo): Promise<void> {
  await writeFileAtomic(httpTokenPath(home), `${info.token}\n`);
  await writeFileAtomic(httpInfoPath(home), `${JSON.stringify(info, null, 2)}\n`);
}

/** Pure: http.json's text → its fields, or undefined when it is not one. */
export function parseHttpInfo(text: string): HttpInfo | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null) return undefined;
  const { url, token, pid } = raw as Record<string, unknown>;
  if (typeof url !== 'string' || typeof token !== 'string' || typeof pid !== 'number') return undefined;
  return { url, token, pid };
}

export async function readHttpInfo(home: string): Promise<HttpInfo | undefined> {
  try {
    return parseHttpInfo(await readFile(httpInfoPath(home), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Remove http.json and http.token if they are still ours (same token): never a newer manager's. */
export async function removeHttpInfo(home: string, token: string): Promise<void> {
  const info = await readHttpInfo(home);
  if (info?.token !== token) return;
  await rm(httpInfoPath(home), { force: true });
  await rm(httpTokenPath(home), { force: true });
}
