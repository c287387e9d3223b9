import { describe, expect, it } from 'vitest';
import { providerConfig } from '../../../../src/adapters/llmspell/provider-config.js';

describe('providerConfig', () => {
  it.each([
    ['openai with its key: the provider, the key variable (never the key), llmspell\'s default model', 'openai', { OPENAI_API_KEY: 'sk-secret' },
      ['[providers]', 'default_provider = "openai"', '[providers.openai]', 'provider_type = "openai"', 'api_key_env = "OPENAI_API_KEY"', 'default_model = "gpt-4"'], undefined],
    ['llmspell\'s own prefixed key wins, and a model from the env', 'anthropic', { ANTHROPIC_API_KEY: 'a', LLMSPELL_PROVIDER_ANTHROPIC_API_KEY: 'b', LLMSPELL_PROVIDER_ANTHROPIC_MODEL: 'claude-x' },
      ['api_key_env = "LLMSPELL_PROVIDER_ANTHROPIC_API_KEY"', 'default_model = "claude-x"'], undefined],
    ['no key: no provider at all (llmspell would refuse to start), and the user is told what to set', 'gemini', {},
      [], /No API key for gemini: set GEMINI_API_KEY/],
    ['ollama needs no key; its host becomes the base URL', 'ollama', { OLLAMA_HOST: '127.0.0.1:11434' },
      ['provider_type = "ollama"', 'default_model = "llama3.2"', 'base_url = "http://127.0.0.1:11434"'], undefined],
    ['a value with quotes is escaped, not pasted into the TOML', 'openai', { OPENAI_API_KEY: 'k', LLMSPELL_PROVIDER_OPENAI_MODEL: 'a"b\nc' },
      ['default_model = "a\\"b\\u000ac"'], undefined],
    ['a provider llmspell has no default for: told to configure it', 'acme', { ACME_KEY: 'x' }, [], /Provider "acme" has no llmspell config/],
  ])('%s', (_name, provider, env, lines, notice) => {
    const got = providerConfig(provider, env);
    for (const line of lines) expect(got.toml.split('\n')).toContain(line);
    if (lines.length === 0) expect(got.toml).not.toContain('[providers');
    expect(got.toml).not.toContain('sk-secret');
    if (notice) expect(got.notice).toMatch(notice);
    else expect(got.notice).toBeUndefined();
  });
});
