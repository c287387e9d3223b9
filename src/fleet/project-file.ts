/**
 * `llmspell-fleet.toml` in a project directory (or any parent) sets the project's default
 * runtime and provider, like .editorconfig: it sits below env and above the user's fleet.toml.
 * It only picks names; runtimes and providers themselves are defined in the user config.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as v from 'valibot';
import { FleetError } from '../shared/errors.js';
import { check, got } from '../shared/schema.js';
import { configError, parseToml } from './toml.js';

export const PROJECT_FILE_NAME = 'llmspell-fleet.toml';

export interface ProjectRequirement {
  path: string;
  runtime?: string;
  provider?: string;
}

/** Each field may be spelt as in fleet.toml (default_*) or short; both at once is ambiguous. */
const SPELLINGS = {
  runtime: ['runtime', 'default_runtime'],
  provider: ['provider', 'default_provider'],
} as const;
const ALLOWED = [...SPELLINGS.runtime, ...SPELLINGS.provider];

export interface FindProjectFileOptions {
  /** Last directory looked at (e.g. the home directory); default: the filesystem root. */
  stopAt?: string;
}

/** The nearest llmspell-fleet.toml from `startDir` upwards; unreadable directories are skipped. */
export async function findProjectFile(startDir: string, options: FindProjectFileOptions = {}): Promise<string | undefined> {
  const stopAt = options.stopAt === undefined ? undefined : resolve(options.stopAt);
  let dir = resolve(startDir);
  for (;;) {
    const candidate = join(dir, PROJECT_FILE_NAME);
    if (await isFile(candidate)) return candidate;
    const parent = dirname(dir);
    if (dir === stopAt || parent === dir) return undefined;
    dir = parent;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

const UNKNOWN_KEY = `is not a known key; a project file may set only ${ALLOWED.join(', ')} (define runtimes and providers in the user fleet.toml)`;

function nameOf(field: 'runtime' | 'provider') {
  const what = got(`must be a non-empty string naming a ${field}`);
  return v.optional(v.pipe(v.string(what), v.check((name) => name.trim().length > 0, what), v.trim()));
}

const ProjectFileSchema = v.strictObject(
  {
    runtime: nameOf('runtime'),
    default_runtime: nameOf('runtime'),
    provider: nameOf('provider'),
    default_provider: nameOf('provider'),
  },
  UNKNOWN_KEY,
);

/** Validate a project file's text. Pure; throws BAD_CONFIG naming the file, the line and the key. */
export function parseProjectRequirement(text: string, source: string): ProjectRequirement {
  const checked = check(ProjectFileSchema, parseToml(text, source, '; fix the file or delete it'));
  if (!checked.ok) throw configError(text, source, checked.problem.path, `${checked.problem.key} ${checked.problem.message}`);
  const file = checked.value;
  const out: ProjectRequirement = { path: source };
  for (const field of ['runtime', 'provider'] as const) {
    const given: string[] = SPELLINGS[field].filter((k) => file[k] !== undefined);
    if (given.length > 1) throw configError(text, source, [given[0] as string], `sets both ${given.join(' and ')}; keep one`);
    const value = file[field] ?? file[`default_${field}`];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** Read and validate one project file; a file that cannot be read is a BAD_CONFIG naming it. */
export async function readProjectRequirement(path: string): Promise<ProjectRequirement> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new FleetError('BAD_CONFIG', `${path}: cannot read the project file (${code}); fix its permissions or delete it`, { source: path, errno: code }, { cause });
  }
  return parseProjectRequirement(text, path);
}

/** Find and read the project file that applies to `startDir`, if any. */
export async function loadProjectRequirement(startDir: string, options: FindProjectFileOptions = {}): Promise<ProjectRequirement | undefined> {
  const path = await findProjectFile(startDir, options);
  return path === undefined ? undefined : readProjectRequirement(path);
}
