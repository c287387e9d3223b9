import { FleetError } from '../shared/errors.js';
import { configPath } from './paths.js';
import type { FleetConfig } from './types.js';
import type { Requirement } from '../shared/requirement.js';

export type RequirementField = 'runtime' | 'provider';
const FIELDS: readonly RequirementField[] = ['runtime', 'provider'];

export interface ResolveInput {
  flags: { runtime?: string; provider?: string };
  env: Record<string, string | undefined>;
  /** `metadata.llmspell` of the kernel.json given by --spec-dir. */
  specMetadata?: { runtime?: unknown; provider?: unknown };
  /** `metadata.llmspell` of the notebook named by JPY_SESSION_NAME or the connection file's `jupyter_session`. */
  notebook?: SourceFile;
  /** The `llmspell-fleet.toml` found walking up from the working directory. */
  project?: SourceFile;
  config: FleetConfig;
}

/** Values read from a file; `path` goes into the source so users see which file decided. */
export interface SourceFile {
  path?: string;
  runtime?: unknown;
  provider?: unknown;
}

/** A value and the name of the layer that supplied it (shown to users: "from env:LLMSPELL_RUNTIME"). */
export interface Sourced {
  value: string;
  source: string;
}

/**
 * One place a requirement can come from. Layers are asked in order and the first one with a
 * value for a field wins; each field is decided on its own. Per-request layers (cell directive,
 * message metadata, ...) slot into this list without touching the loop.
 */
export interface ResolutionLayer<I = ResolveInput> {
  name: string;
  lookup(input: I, field: RequirementField): Sourced | undefined;
}

export type ResolvedRequirement = Requirement & { sources: Record<RequirementField, string> };

/** Empty or blank means "not set": an exported-but-empty env var must not beat the config default. */
function present(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim().length > 0 ? v.trim() : undefined;
}

const ENV_NAMES: Record<RequirementField, readonly string[]> = {
  // Gateways (Enterprise Gateway, Kernel Gateway) forward only KERNEL_* variables; a plain name
  // set by the user beats what a gateway passed along.
  runtime: ['LLMSPELL_RUNTIME', 'KERNEL_LLMSPELL_RUNTIME'],
  provider: ['LLMSPELL_PROVIDER', 'KERNEL_LLMSPELL_PROVIDER'],
};

export const argvLayer: ResolutionLayer = {
  name: 'argv',
  lookup: (input, field) => {
    const value = present(input.flags[field]);
    return value === undefined ? undefined : { value, source: 'argv' };
  },
};

const kernelspecLayer: ResolutionLayer = {
  name: 'kernelspec',
  lookup: (input, field) => {
    const value = present(input.specMetadata?.[field]);
    return value === undefined ? undefined : { value, source: 'kernelspec' };
  },
};

function fileLayer(name: 'notebook' | 'project', pick: (input: ResolveInput) => SourceFile | undefined): ResolutionLayer {
  return {
    name,
    lookup: (input, field) => {
      const file = pick(input);
      const value = present(file?.[field]);
      return value === undefined ? undefined : { value, source: file?.path ? `${name}:${file.path}` : name };
    },
  };
}

/**
 * Below argv and the kernelspec (what the user picked for this kernel), above env: a notebook
 * that says which runtime it is written for beats a variable exported for the whole server.
 */
const notebookLayer: ResolutionLayer = fileLayer('notebook', (input) => input.notebook);

/** Below env, above the user config: a project default is more specific than a user default. */
const projectLayer: ResolutionLayer = fileLayer('project', (input) => input.project);

export const envLayer: ResolutionLayer = {
  name: 'env',
  lookup: (input, field) => {
    for (const name of ENV_NAMES[field]) {
      const value = present(input.env[name]);
      if (value !== undefined) return { value, source: `env:${name}` };
    }
    return undefined;
  },
};

export const configLayer: ResolutionLayer = {
  name: 'config',
  lookup: (input, field) => {
    const value = field === 'runtime' ? input.config.default_runtime : input.config.default_provider;
    return { value, source: 'config' };
  },
};

/** Highest precedence first. */
export const DEFAULT_LAYERS: readonly ResolutionLayer[] = [argvLayer, kernelspecLayer, notebookLayer, envLayer, projectLayer, configLayer];

/** What one layer gave at launch; a field it left unset is absent. */
export interface LaunchLayerValues {
  name: string;
  runtime?: Sourced;
  provider?: Sourced;
}

/**
 * Every launch layer's values, highest first. The router needs them apart, not just the
 * winner: a per-request layer (the notebook a VS Code cellId names) must slot in between them.
 */
export function launchLayers(input: ResolveInput, layers: readonly ResolutionLayer[] = DEFAULT_LAYERS): LaunchLayerValues[] {
  return layers.map((layer) => {
    const values: LaunchLayerValues = { name: layer.name };
    for (const field of FIELDS) {
      const hit = layer.lookup(input, field);
      if (hit !== undefined) values[field] = hit;
    }
    return values;
  });
}

function resolveField<I>(input: I, field: RequirementField, layers: readonly ResolutionLayer<I>[]): Sourced {
  for (const layer of layers) {
    const hit = layer.lookup(input, field);
    if (hit !== undefined) return hit;
  }
  // Unreachable with configLayer last; a custom list without a fallback is a programming error.
  throw new FleetError('BAD_CONFIG', `no resolution layer gave a ${field}; end the layer list with a config layer`, { field });
}

/** Which runtime and provider this kernel is for, and which layer decided each. Pure. */
export function resolveRequirement(
  input: ResolveInput,
  layers: readonly ResolutionLayer[] = DEFAULT_LAYERS,
): ResolvedRequirement {
  const [runtime, provider] = FIELDS.map((field) => resolveField(input, field, layers)) as [Sourced, Sourced];
  return { runtime: runtime.value, provider: provider.value, sources: { runtime: runtime.source, provider: provider.source } };
}

export interface CheckOptions {
  /** Where the user would define new names; default: the config's source or the default config path. */
  configPath?: string;
}

/** Throws UNKNOWN_RUNTIME / UNKNOWN_PROVIDER when the config defines no such name. */
export function checkRequirement(
  req: Requirement & { sources?: Partial<Record<RequirementField, string>> },
  config: FleetConfig,
  options: CheckOptions = {},
): void {
  const file = options.configPath ?? config.source ?? configPath();
  const checks = [
    { field: 'runtime', code: 'UNKNOWN_RUNTIME', table: config.runtimes },
    { field: 'provider', code: 'UNKNOWN_PROVIDER', table: config.providers },
  ] as const;
  for (const { field, code, table } of checks) {
    const name = req[field];
    if (Object.hasOwn(table, name)) continue;
    const known = Object.keys(table).sort();
    const from = req.sources?.[field] ? ` (from ${req.sources[field]})` : '';
    throw new FleetError(
      code,
      `unknown ${field} "${name}"${from}; known ${field}s: ${known.join(', ')}. Define a new one as [${field}s.${name}] in ${file}`,
      { [field]: name, known, configPath: file, source: req.sources?.[field] },
    );
  }
}
