/**
 * What an execute_request's `metadata` asks for. Clients put very different things there:
 * JupyterLab spreads the cell's metadata at the top level (with `cellId`), VS Code spreads it
 * too (its `cellId` is a URI naming the notebook file), `jupyter console --Session.metadata`
 * adds flat keys to every message. Nothing here is validated strictly: metadata is written by
 * many tools, and a value we cannot use is skipped so that a lower layer decides.
 */

export type RequestField = 'runtime' | 'provider' | 'group';
const FIELDS: readonly RequestField[] = ['runtime', 'provider', 'group'];

export interface MetadataRequirement {
  runtime?: string;
  provider?: string;
  group?: string;
  /** For each field found, where in the metadata it was, e.g. "metadata.llmspell.runtime". */
  sources: Partial<Record<RequestField, string>>;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim().length > 0 ? v.trim() : undefined;
}

/**
 * Where cell metadata may sit: the top level (JupyterLab, VS Code today), or nested under
 * `metadata` or `custom.metadata`, the shapes older VS Code builds kept cell metadata in.
 */
function containers(metadata: Obj): Array<[string, Obj]> {
  const out: Array<[string, Obj]> = [['metadata', metadata]];
  if (isObj(metadata.metadata)) out.push(['metadata.metadata', metadata.metadata]);
  const custom = metadata.custom;
  if (isObj(custom) && isObj(custom.metadata)) out.push(['metadata.custom.metadata', custom.metadata]);
  return out;
}

/** One container's candidates for a field, best first: the llmspell object, flat keys, tags. */
function lookups(path: string, c: Obj, field: RequestField): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  if (isObj(c.llmspell)) out.push([`${path}.llmspell.${field}`, c.llmspell[field]]);
  out.push([`${path}.llmspell_${field}`, c[`llmspell_${field}`]]);
  if (Array.isArray(c.tags)) {
    const prefix = `llmspell:${field}=`;
    const tag = c.tags.find((t): t is string => typeof t === 'string' && t.trim().startsWith(prefix) && text(t.trim().slice(prefix.length)) !== undefined);
    if (tag !== undefined) out.push([`${path}.tags`, tag.trim().slice(prefix.length)]);
  }
  return out;
}

/** Runtime, provider and group asked for by message metadata; each field on its own. */
export function requirementFromMetadata(metadata: unknown): MetadataRequirement {
  const result: MetadataRequirement = { sources: {} };
  if (!isObj(metadata)) return result;
  const places = containers(metadata);
  for (const field of FIELDS) {
    for (const [path, container] of places) {
      const hit = lookups(path, container, field).find(([, v]) => text(v) !== undefined);
      if (hit) {
        result[field] = text(hit[1]);
        result.sources[field] = hit[0];
        break;
      }
    }
  }
  return result;
}

const NOTEBOOK_SCHEMES = new Set(['vscode-notebook-cell:', 'file:']);

/**
 * The notebook file a VS Code cellId names: `vscode-notebook-cell:/home/u/a%20b.ipynb#W1s...`
 * (path percent-encoded, fragment = the cell). A remote window adds an authority
 * (`vscode-notebook-cell://ssh-remote%2Bhost/...`); the path is still local to the kernel.
 * JupyterLab's cellId is a bare UUID and names no file. Only absolute .ipynb paths count.
 */
export function notebookPathFromCellId(cellId: unknown): string | undefined {
  if (typeof cellId !== 'string') return undefined;
  let url: URL;
  let path: string;
  try {
    url = new URL(cellId);
    path = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  if (!NOTEBOOK_SCHEMES.has(url.protocol)) return undefined;
  // VS Code writes Windows paths as /c:/dir/x.ipynb.
  if (/^\/[A-Za-z]:\//.test(path)) path = path.slice(1);
  const absolute = path.startsWith('/') || /^[A-Za-z]:\//.test(path);
  if (!absolute || !path.toLowerCase().endsWith('.ipynb') || path.includes('\0')) return undefined;
  return path;
}

/** The notebook named by an execute_request's cellId, wherever the client put it. */
export function notebookPathFromMetadata(metadata: unknown): string | undefined {
  if (!isObj(metadata)) return undefined;
  for (const [, container] of containers(metadata)) {
    const path = notebookPathFromCellId(container.cellId);
    if (path !== undefined) return path;
  }
  return undefined;
}
