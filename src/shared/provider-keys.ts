/**
 * The environment variables that carry LLM provider credentials and endpoints for llmspell. A
 * router passes its own to the fleet manager with each request: the manager may have been started
 * long before the user exported a key, and backends it starts must see the key the user has now.
 * They travel only over the manager's 0600 unix socket and are never logged or written to disk.
 */

/** The variables llmspell reads for each provider it knows (LLMSPELL_PROVIDER, which the fleet sets, is not one of them). */
export const PROVIDER_KEY_VARIABLES: Readonly<Record<string, readonly string[]>> = {
  openai: ['OPENAI_API_KEY'],
  anthropic: ['ANTHROPIC_API_KEY'],
  gemini: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'],
  ollama: ['OLLAMA_HOST'],
};

/** llmspell's own per-provider variables: LLMSPELL_PROVIDER_<NAME>_<suffix>, for any provider name. */
export const LLMSPELL_PROVIDER_SUFFIXES = ['API_KEY', 'BASE_URL', 'MODEL'] as const;

/** Any provider's variable: what a router may hand the manager (names only letters, digits and _, so no escaping). */
export const PROVIDER_KEY_NAME = new RegExp(
  `^(?:${[...new Set(Object.values(PROVIDER_KEY_VARIABLES).flat())].join('|')}|LLMSPELL_PROVIDER_[A-Z0-9_]+_(?:${LLMSPELL_PROVIDER_SUFFIXES.join('|')}))$`,
);

export function providerKeyEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '' && PROVIDER_KEY_NAME.test(name)) out[name] = value;
  }
  return out;
}
