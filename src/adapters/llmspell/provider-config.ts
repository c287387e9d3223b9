/**
 * A minimal llmspell config for one built-in provider, for a first run with no config file.
 * llmspell's own `*-prod` profiles configure openai, anthropic AND gemini and refuse to start
 * unless all three keys are set (checked against a real 0.14.1), so a user with one key could
 * not start at all. Here only the asked-for provider is configured, and only when its key is
 * set; without a key llmspell starts with no provider, Lua runs, and the user is told what to
 * set. Pure: the caller writes the file.
 */

interface BuiltinProvider {
  type: string;
  /** Key variables, llmspell's own prefixed one first; none for a local provider. */
  keys: readonly string[];
  model: string;
  /** Where a base URL may come from, besides LLMSPELL_PROVIDER_<NAME>_BASE_URL. */
  baseUrlEnv?: string;
}

/** llmspell's own defaults for each provider (llmspell-config/layers/features/llm.toml, ollama preset). */
export const BUILTIN_PROVIDERS: Readonly<Record<string, BuiltinProvider>> = {
  openai: { type: 'openai', keys: ['OPENAI_API_KEY'], model: 'gpt-4' },
  anthropic: { type: 'anthropic', keys: ['ANTHROPIC_API_KEY'], model: 'claude-sonnet-4-5' },
  gemini: { type: 'gemini', keys: ['GEMINI_API_KEY'], model: 'gemini-2.5-flash' },
  ollama: { type: 'ollama', keys: [], model: 'llama3.2', baseUrlEnv: 'OLLAMA_HOST' },
};

export interface ProviderConfigFile {
  toml: string;
  /** Said to the user in the first cell when the provider could not be configured. */
  notice?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** TOML basic string: the values come from the environment, so they are escaped, never pasted. */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\u0000-\u001f\u007f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

export function providerConfig(name: string, env: Env): ProviderConfigFile {
  const header = `# Written by llmspell-fleet for provider "${name}": no config file was given (providers.${name}.config in fleet.toml).\n`;
  const builtin = BUILTIN_PROVIDERS[name];
  if (builtin === undefined) {
    return {
      toml: header,
      notice: `Provider "${name}" has no llmspell config, so llmspell runs without an LLM provider: set providers.${name}.config (or profile) in fleet.toml.\n`,
    };
  }
  const prefix = `LLMSPELL_PROVIDER_${name.toUpperCase()}`;
  const present = (v: string): boolean => (env[v] ?? '') !== '';
  const keyVars = [`${prefix}_API_KEY`, ...builtin.keys];
  const keyVar = keyVars.find(present);
  if (builtin.keys.length > 0 && keyVar === undefined) {
    return {
      toml: header,
      notice: `No API key for ${name}: set ${builtin.keys[0]} (or ${prefix}_API_KEY) where Jupyter runs, then restart the kernel. Lua runs meanwhile; LLM calls will fail.\n`,
    };
  }
  const lines = [`[providers]`, `default_provider = ${quote(name)}`, '', `[providers.${name}]`, `provider_type = ${quote(builtin.type)}`];
  if (keyVar !== undefined) lines.push(`api_key_env = ${quote(keyVar)}`);
  lines.push(`default_model = ${quote(env[`${prefix}_MODEL`] || builtin.model)}`);
  const baseUrl = env[`${prefix}_BASE_URL`] || (builtin.baseUrlEnv ? env[builtin.baseUrlEnv] : undefined);
  if (baseUrl) lines.push(`base_url = ${quote(/^https?:\/\//.test(baseUrl) ? baseUrl : `http://${baseUrl}`)}`);
  return { toml: `${header}${lines.join('\n')}\n` };
}
