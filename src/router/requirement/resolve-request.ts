/**
 * Which backend one request wants. Pure: the caller has already read whatever files are
 * involved (the notebook named by a VS Code cellId) and resolved the launch-time layers.
 *
 * Precedence, most specific first; each field is decided on its own:
 *   1. the cell directive `%%llmspell ...`            (source "directive")
 *   2. message metadata                               (source "metadata.<path>")
 *   3. the session's `%llmspell use` choice           (source "sticky")
 *   4. launch layers above the notebook: argv, kernelspec
 *   5. the notebook named by this request's cellId    (source "notebook:<path>")
 *   6. the remaining launch layers: notebook (JPY_SESSION_NAME), env, project file, config
 */
import { FleetError } from '../../shared/errors.js';
import type { Requirement } from '../../shared/requirement.js';
import { parseCellDirective } from './directive.js';
import { requirementFromMetadata, type RequestField } from './metadata.js';

export interface Sourced {
  value: string;
  source: string;
}

/** One launch-time layer with what it gave, in precedence order (fleet's `launchLayers`). */
export interface LaunchLayer {
  name: string;
  runtime?: Sourced;
  provider?: Sourced;
  group?: Sourced;
}

export interface PartialRequirement {
  runtime?: string;
  provider?: string;
  group?: string;
}

export interface ResolveRequestInput {
  /** execute_request content.code; absent for requests that carry no code (comm_open). */
  code?: string;
  metadata?: unknown;
  /** Set by `%llmspell use`; a field left out falls through to the layers below. */
  sticky?: PartialRequirement;
  /** `metadata.llmspell` of the notebook this request's cellId names. */
  notebook?: { path?: string; runtime?: string; provider?: string };
  /** Launch-time layers, highest first; the last must give both runtime and provider. */
  launch: readonly LaunchLayer[];
}

/** What the precedence rules chose, and which layer gave each field (a ResolvedRequest with its sources). */
export interface RequestResolution {
  requirement: Requirement;
  sources: { runtime: string; provider: string; group?: string };
  /** The code with the directive line emptied; set only when the cell had a directive. */
  code?: string;
  /** A malformed directive: the request must be refused with this message. */
  error?: string;
}

type Layer = Partial<Record<RequestField, Sourced>>;

/** Launch layers that outrank a notebook: they are what the user picked for this kernel. */
const ABOVE_NOTEBOOK = new Set(['argv', 'kernelspec']);

function present(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim().length > 0 ? v.trim() : undefined;
}

const ALL_FIELDS: readonly RequestField[] = ['runtime', 'provider', 'group'];

function layerOf(values: PartialRequirement | undefined, source: (field: RequestField) => string, fields = ALL_FIELDS): Layer {
  const layer: Layer = {};
  for (const field of fields) {
    const value = present(values?.[field]);
    if (value !== undefined) layer[field] = { value, source: source(field) };
  }
  return layer;
}

function requestLayers(input: ResolveRequestInput, directive: PartialRequirement | undefined): Layer[] {
  const meta = requirementFromMetadata(input.metadata);
  const notebookSource = input.notebook?.path ? `notebook:${input.notebook.path}` : 'notebook';
  // A notebook never picks the sharing group: groups are chosen per cell or per session.
  const notebook = layerOf(input.notebook, () => notebookSource, ['runtime', 'provider']);
  const split = input.launch.findIndex((l) => !ABOVE_NOTEBOOK.has(l.name));
  const at = split === -1 ? input.launch.length : split;
  return [
    layerOf(directive, () => 'directive'),
    layerOf(meta, (field) => meta.sources[field] ?? 'metadata'),
    layerOf(input.sticky, () => 'sticky'),
    ...input.launch.slice(0, at),
    notebook,
    ...input.launch.slice(at),
  ];
}

function pick(layers: readonly Layer[], field: RequestField): Sourced | undefined {
  for (const layer of layers) {
    const hit = layer[field];
    if (hit !== undefined && present(hit.value) !== undefined) return { value: hit.value.trim(), source: hit.source };
  }
  return undefined;
}

export function resolveRequest(input: ResolveRequestInput): RequestResolution {
  const parsed = input.code === undefined ? undefined : parseCellDirective(input.code);
  const directive = parsed && 'requirement' in parsed ? parsed : undefined;
  const layers = requestLayers(input, directive?.requirement);
  const runtime = pick(layers, 'runtime');
  const provider = pick(layers, 'provider');
  if (!runtime || !provider) {
    // The fleet's launch list ends with the config layer, which always answers.
    throw new FleetError('BAD_CONFIG', `no layer gave a ${runtime ? 'provider' : 'runtime'}; end the launch layers with the config layer`, {
      layers: input.launch.map((l) => l.name),
    });
  }
  const group = pick(layers, 'group');
  const result: RequestResolution = {
    requirement: { runtime: runtime.value, provider: provider.value, ...(group ? { group: group.value } : {}) },
    sources: { runtime: runtime.source, provider: provider.source, ...(group ? { group: group.source } : {}) },
  };
  if (directive) result.code = directive.code;
  if (parsed && 'error' in parsed) result.error = parsed.error;
  return result;
}
