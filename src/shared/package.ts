/** This package on disk: its root directory and its version, found from this module's location. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FleetError } from './errors.js';

const PACKAGE_NAME = 'llmspell-fleet';

const HERE = fileURLToPath(import.meta.url);
let cachedRoot: string | null | undefined;

/**
 * The directory holding our package.json, found by walking up from `from` (a path or a file:
 * URL; default this module). This file sits at src/shared/ in a checkout and at dist/src/shared/
 * when built, so a fixed number of `..` would be wrong in one of them. Undefined when no
 * ancestor is ours.
 */
export function packageRoot(from: string = HERE): string | undefined {
  const start = from.startsWith('file:') ? fileURLToPath(from) : from;
  if (start === HERE && cachedRoot !== undefined) return cachedRoot ?? undefined;
  let dir = dirname(start);
  let found: string | undefined;
  for (;;) {
    if (manifestOf(dir)?.name === PACKAGE_NAME) {
      found = dir;
      break;
    }
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  if (start === HERE) cachedRoot = found ?? null;
  return found;
}

/** packageRoot, for callers that cannot go on without it (installing the kernelspec). */
export function requirePackageRoot(from: string = HERE): string {
  const root = packageRoot(from);
  if (root === undefined) {
    throw new FleetError('INSTALL_FAILED', `cannot find the ${PACKAGE_NAME} package root above ${from}; reinstall the package`, { from });
  }
  return root;
}

function manifestOf(dir: string): { name?: unknown; version?: unknown } | undefined {
  const file = join(dir, 'package.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    // An unreadable package.json on the way up is not ours: keep walking.
    return undefined;
  }
}

function readVersion(): string {
  const root = packageRoot();
  const version = root === undefined ? undefined : manifestOf(root)?.version;
  return typeof version === 'string' && version.length > 0 ? version : '0.0.0';
}

/** Read from package.json at run time, so what we report can never drift from the package. */
export const VERSION = readVersion();
