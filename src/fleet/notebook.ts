/**
 * A notebook can say which runtime and provider it is written for, in its own top-level
 * metadata: `"metadata": {"llmspell": {"runtime": "lua", "provider": "anthropic"}}`. No client
 * sends notebook metadata to a kernel, so the router reads the file itself.
 */
import { open, stat } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import * as v from 'valibot';
import { withoutUndefined } from '../shared/schema.js';

export interface NotebookRequirement {
  runtime?: string;
  provider?: string;
}

/** Larger notebooks are not read: parsing them on a kernel's start path costs too much. */
const MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024;

/** A name, trimmed; anything else (a number, a blank string) names nothing rather than failing. */
const name = v.fallback(v.optional(v.pipe(v.string(), v.trim(), v.nonEmpty())), undefined);
const text = (value: unknown): string | undefined => v.parse(name, value);
const NotebookSchema = v.object({ metadata: v.object({ llmspell: v.object({ runtime: name, provider: name }) }) });

/** `metadata.llmspell` of an .ipynb's JSON text; undefined when absent or unusable. Pure. */
export function notebookRequirementFromJson(json: string): NotebookRequirement | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(json.charCodeAt(0) === 0xfeff ? json.slice(1) : json);
  } catch {
    return undefined;
  }
  const parsed = v.safeParse(NotebookSchema, doc);
  if (!parsed.success) return undefined;
  const out = withoutUndefined(parsed.output.metadata.llmspell);
  return out.runtime === undefined && out.provider === undefined ? undefined : out;
}

export interface ReadNotebookOptions {
  maxBytes?: number;
}

/**
 * Never throws: a notebook that is missing, unreadable, too large or not JSON simply names
 * no requirement, and the next layer decides. Routing must not fail because of a notebook file.
 */
export async function readNotebookRequirement(path: string, options: ReadNotebookOptions = {}): Promise<NotebookRequirement | undefined> {
  const maxBytes = options.maxBytes ?? MAX_NOTEBOOK_BYTES;
  try {
    const handle = await open(path, 'r');
    try {
      const info = await handle.stat();
      if (!info.isFile() || info.size > maxBytes) return undefined;
      return notebookRequirementFromJson(await handle.readFile('utf8'));
    } finally {
      await handle.close();
    }
  } catch {
    return undefined;
  }
}

export interface NotebookPathInput {
  env: Record<string, string | undefined>;
  /** The parsed connection file; jupyter_client 8.3+ writes `jupyter_session` into it. */
  connectionInfo?: { jupyter_session?: unknown };
  /** The kernel's working directory (default process.cwd()). */
  cwd?: string;
}

/**
 * The notebook this kernel was started for, from JPY_SESSION_NAME, else the connection file's
 * `jupyter_session`. jupyter_server gives an absolute path when it knows the notebook's name
 * and the server-relative API path otherwise; the kernel's cwd is the notebook's directory, so
 * a relative path is taken as the file of that name there. Anything but an .ipynb is ignored
 * (console sessions and other front ends put plain session names in these fields).
 */
export function notebookPathFromEnv(input: NotebookPathInput): string | undefined {
  const candidates = [input.env.JPY_SESSION_NAME, input.connectionInfo?.jupyter_session];
  for (const candidate of candidates) {
    const path = text(candidate);
    if (path === undefined || !path.toLowerCase().endsWith('.ipynb') || path.includes('\0')) continue;
    return isAbsolute(path) ? path : join(input.cwd ?? process.cwd(), basename(path));
  }
  return undefined;
}

export interface NotebookReader {
  read(path: string): Promise<NotebookRequirement | undefined>;
}

/**
 * A reader for per-request use (VS Code sends the notebook's path with every cell): the file is
 * parsed again only when its size or mtime changed, so a saved edit of the notebook's metadata
 * takes effect on the next cell without re-reading a large notebook every time.
 */
export function createNotebookReader(options: ReadNotebookOptions & { maxEntries?: number } = {}): NotebookReader {
  const maxEntries = options.maxEntries ?? 64;
  const cache = new Map<string, { stamp: string; value: Promise<NotebookRequirement | undefined> }>();
  return {
    async read(path) {
      let stamp: string;
      try {
        const info = await stat(path);
        stamp = `${info.size}:${info.mtimeMs}`;
      } catch {
        cache.delete(path);
        return undefined;
      }
      const hit = cache.get(path);
      if (hit?.stamp === stamp) return hit.value;
      const value = readNotebookRequirement(path, options);
      cache.delete(path);
      cache.set(path, { stamp, value });
      // Map keeps insertion order: the first key is the least recently (re)read.
      if (cache.size > maxEntries) cache.delete(cache.keys().next().value as string);
      return value;
    },
  };
}
