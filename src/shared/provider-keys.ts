/**
 * The environment variables that carry LLM provider credentials and endpoints for llmspell. A
 * router passes its own to the fleet manager with each request: the manager may have been started
 * long before the user exported a key, and backends it starts must see the key the user has now.
 * They travel only over the manager's 0600 unix socket and are never logged or written to disk.
 */
export const PROVIDER_KEY_NAME = /^(?:(?:OPENAI|ANTHROPIC|GEMINI|GOOGLE)_API_KEY|OLLAMA_HOST|LLMSPELL_PROVIDER_[A-Z0-9_]+_(?:API_KEY|BASE_URL|MODEL))$/;

export function providerKeyEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '' && PROVIDER_KEY_NAME.test(name)) out[name] = value;
  }
  return out;
}
