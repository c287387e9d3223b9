import { createNotebookReader } from '../fleet/notebook.js';
import type { LaunchLayerValues } from '../fleet/resolve.js';
import type { FleetConfig } from '../fleet/types.js';
import type { RequestResolver } from '../router/proxy.js';
import { notebookPathFromMetadata } from '../router/requirement/metadata.js';
import { resolveRequest } from '../router/requirement/resolve-request.js';

/**
 * Per-request resolution for the router: the pure precedence rules of router/requirement over
 * the launch layers fleet/resolve computed once. The only I/O is reading the notebook that a
 * VS Code cellId names (cached by size and mtime), which makes such a request async.
 */
export function createRequestResolver(options: { launch: LaunchLayerValues[]; config: FleetConfig }): RequestResolver {
  const reader = createNotebookReader();
  const { launch, config } = options;
  return {
    resolve({ code, metadata, sticky }) {
      const path = notebookPathFromMetadata(metadata);
      if (path === undefined) return resolveRequest({ code, metadata, sticky, launch });
      return reader.read(path).then((notebook) =>
        resolveRequest({ code, metadata, sticky, launch, notebook: notebook ? { path, ...notebook } : undefined }),
      );
    },
    known: () => ({ runtimes: Object.keys(config.runtimes).sort(), providers: Object.keys(config.providers).sort() }),
  };
}
