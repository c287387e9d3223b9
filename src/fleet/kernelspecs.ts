import { access, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, join } from 'node:path';
import { FleetError } from '../shared/errors.js';
import { userDataDir } from '../shared/jupyter-paths.js';
import { isSafeName } from '../shared/names.js';
import { runCommand } from '../shared/process.js';
import * as v from 'valibot';
import { check, got, isTable, oneOf, withoutUndefined, type Assert, type Same } from '../shared/schema.js';

type Env = Record<string, string | undefined>;

export interface KernelSpec {
  argv: string[];
  env?: Record<string, string>;
  interrupt_mode?: 'signal' | 'message';
  language?: string;
  display_name?: string;
  metadata?: Record<string, unknown>;
}

export interface FoundKernelspec {
  /** The kernelspec's directory: what Jupyter calls {resource_dir}. */
  dir: string;
  spec: KernelSpec;
}

export interface FindKernelspecOptions {
  env?: Env;
  /** Searched before the Jupyter data path, e.g. a --spec-dir's parent. Each holds `kernels/<name>/`. */
  extraDirs?: string[];
}

const PROBE_TIMEOUT_MS = 5_000;

/** Kept only when of the right type: a third-party kernel.json with an odd extra still starts, as in Jupyter. */
function lenient<S extends v.GenericSchema>(schema: S) {
  return v.fallback(v.optional(schema), undefined);
}

/** kernel.json as Jupyter defines it: the fields we use are checked, the rest ignored. */
const KernelSpecSchema = v.pipe(
  v.custom<Record<string, unknown>>(isTable, got('must hold a JSON object')),
  v.object(
    {
      argv: v.pipe(v.array(v.string(got('must be a string')), got('must be a non-empty array of strings')), v.nonEmpty(got('must be a non-empty array of strings'))),
      env: v.optional(
        v.pipe(
          v.custom<Record<string, unknown>>(isTable, got('must be an object of strings')),
          // Never echo env values: a kernelspec may carry a token.
          v.record(v.string(), v.string((issue) => `must be a string, not ${typeof issue.input}`)),
        ),
      ),
      interrupt_mode: v.optional(oneOf(['signal', 'message'])),
      language: lenient(v.string()),
      display_name: lenient(v.string()),
      metadata: lenient(v.record(v.string(), v.unknown())),
    },
    (issue) => (issue.expected === '"argv"' ? 'is missing: it must be a non-empty array of strings' : 'must hold a JSON object'),
  ),
);
type _KernelSpecShape = Assert<Same<v.InferOutput<typeof KernelSpecSchema>, KernelSpec>>;

/** Validate a kernel.json; `source` names the file in errors. */
export function parseKernelspec(text: string, source: string): KernelSpec {
  const bad = (what: string): never => {
    throw new FleetError('BAD_CONFIG', `${source}: ${what}; fix or reinstall this kernelspec`, { source });
  };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    bad('is not valid JSON');
  }
  const checked = check(KernelSpecSchema, raw);
  if (!checked.ok) return bad(checked.problem.key ? `${checked.problem.key} ${checked.problem.message}` : checked.problem.message);
  // Fields of the wrong type come out as undefined; leave them out rather than carry them.
  return withoutUndefined(checked.value);
}

function splitPath(value: string | undefined): string[] {
  return (value ?? '').split(delimiter).filter((p) => p.length > 0);
}

/** The standard data path when `jupyter` itself cannot be asked. Pure. */
export function fallbackDataDirs(env: Env, pythonPrefix?: string): string[] {
  const dirs = [...splitPath(env.JUPYTER_PATH), userDataDir({ env, platform: process.platform, home: env.HOME || homedir() })];
  if (pythonPrefix) dirs.push(join(pythonPrefix, 'share', 'jupyter'));
  dirs.push('/usr/local/share/jupyter', '/usr/share/jupyter');
  return [...new Set(dirs)];
}

async function probe(command: string, args: string[], env: Env): Promise<string | undefined> {
  try {
    const r = await runCommand(command, args, { env, timeoutMs: PROBE_TIMEOUT_MS });
    return r.stdout;
  } catch {
    return undefined;
  }
}

/** What `jupyter --paths --json` prints; only the data directories are used. */
const JupyterPathsSchema = v.object({ data: v.pipe(v.array(v.string()), v.nonEmpty()) });

async function computeDataDirs(env: Env): Promise<string[]> {
  // Jupyter's own answer already applies JUPYTER_PATH, JUPYTER_PREFER_ENV_PATH and its env prefix.
  const json = await probe('jupyter', ['--paths', '--json'], env);
  if (json !== undefined) {
    try {
      const paths = v.safeParse(JupyterPathsSchema, JSON.parse(json));
      if (paths.success) return [...new Set([...splitPath(env.JUPYTER_PATH), ...paths.output.data])];
    } catch {
      // fall through to the standard list
    }
  }
  const prefix = (await probe('python3', ['-c', 'import sys;print(sys.prefix)'], env))?.trim();
  return fallbackDataDirs(env, prefix || undefined);
}

const CACHE_KEYS = ['PATH', 'HOME', 'JUPYTER_PATH', 'JUPYTER_DATA_DIR', 'XDG_DATA_HOME', 'JUPYTER_PREFER_ENV_PATH', 'VIRTUAL_ENV', 'CONDA_PREFIX'];
const dataDirCache = new Map<string, Promise<string[]>>();

/** Jupyter data directories in search order; asked once per process per relevant environment. */
export function jupyterDataDirs(env: Env = process.env): Promise<string[]> {
  const key = JSON.stringify(CACHE_KEYS.map((k) => env[k] ?? null));
  let dirs = dataDirCache.get(key);
  if (!dirs) {
    dirs = computeDataDirs(env);
    dataDirCache.set(key, dirs);
  }
  return dirs;
}

/** Find an installed kernelspec by name, as `jupyter kernelspec list` would. */
export async function findKernelspec(name: string, options: FindKernelspecOptions = {}): Promise<FoundKernelspec> {
  const env = options.env ?? process.env;
  const install = `install it (for Python: python -m ipykernel install --user --name ${name}) or pick a name that \`jupyter kernelspec list\` shows`;
  if (!isSafeName(name)) {
    throw new FleetError('KERNELSPEC_NOT_FOUND', `"${name}" is not a valid kernelspec name; ${install}`, { name, searched: [] });
  }
  const dataDirs = [...(options.extraDirs ?? []), ...(await jupyterDataDirs(env))];
  // Jupyter treats kernel names case-insensitively and installs them lower-cased.
  const names = [...new Set([name, name.toLowerCase()])];
  const searched: string[] = [];
  for (const base of dataDirs) {
    for (const n of names) {
      const dir = join(base, 'kernels', n);
      const file = join(dir, 'kernel.json');
      searched.push(file);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        continue;
      }
      return { dir, spec: parseKernelspec(text, file) };
    }
  }
  throw new FleetError('KERNELSPEC_NOT_FOUND', `no kernelspec "${name}" found; looked for ${searched.join(', ')}. To fix: ${install}`, {
    name,
    searched,
  });
}

/**
 * A spec installed under `<prefix>/share/jupyter/kernels/` whose argv starts with a bare
 * `python` means that prefix's Python (jupyter_client substitutes its own interpreter the same
 * way). Without this, a venv kernel started from an unactivated shell would run whatever
 * `python` PATH finds, usually one without ipykernel.
 */
export async function preferPrefixInterpreter(found: FoundKernelspec): Promise<string[]> {
  const [first, ...rest] = found.spec.argv;
  if (first === undefined || !/^python(\d+(\.\d+)?)?$/.test(first)) return [...found.spec.argv];
  const kernelsDir = dirname(found.dir);
  const shareJupyter = dirname(kernelsDir);
  if (basename(kernelsDir) !== 'kernels' || basename(shareJupyter) !== 'jupyter' || basename(dirname(shareJupyter)) !== 'share') {
    return [...found.spec.argv];
  }
  const candidate = join(dirname(dirname(shareJupyter)), 'bin', first);
  try {
    await access(candidate, constants.X_OK);
    return [candidate, ...rest];
  } catch {
    return [...found.spec.argv];
  }
}
