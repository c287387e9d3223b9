import { readFileSync } from 'node:fs';

/** Read from package.json at run time so `--version` can never drift from the package. */
function readVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'llmspell-fleet' && pkg.version) return pkg.version;
    } catch {
      // try the next candidate: the layout differs between src/ (tests) and dist/src/ (built)
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
