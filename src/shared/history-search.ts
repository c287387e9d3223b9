/**
 * history_request's search, as IPython answers it: the router's session history and the llmspell
 * adapter's history both search this way.
 */

/** The spec's glob: * and ? as wildcards over the whole input (SQLite GLOB, which IPython uses). */
export function globToRegExp(glob: string): RegExp {
  const body = [...glob].map((c) => (c === '*' ? '[\\s\\S]*' : c === '?' ? '[\\s\\S]' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`);
}

/** Later duplicates win, so the most recent use of an input keeps its place (IPython's unique search does the same). */
export function uniqueByInput<E extends { readonly input: string }>(entries: readonly E[]): E[] {
  const seen = new Set<string>();
  const kept: E[] = [];
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (seen.has(e.input)) continue;
    seen.add(e.input);
    kept.push(e);
  }
  return kept.reverse();
}
