import type { Requirement as RequirementRef } from '../shared/requirement.js';

/** Which backend a request wants. `code` is set when a cell directive was stripped from it. */
export interface ResolvedRequest {
  requirement: RequirementRef;
  sources?: Record<string, string>;
  code?: string;
  error?: string;
}

/** A `%llmspell use` choice: a field left out falls through to the layers below it. */
export interface StickyChoice {
  runtime?: string;
  provider?: string;
  group?: string;
}

/** Per-request resolution, supplied by whoever starts the router (the CLI reads fleet.toml and notebooks). */
export interface RequestResolver {
  /** May be async when a file must be read first (the notebook a VS Code cellId names). */
  resolve(input: { code?: string; metadata?: unknown; sticky?: StickyChoice }): ResolvedRequest | Promise<ResolvedRequest>;
  /** Runtime and provider names, for completing `%llmspell use`. */
  known?(): { runtimes: string[]; providers: string[] };
}
