import { describe, expect, it } from 'vitest';
import { differingKeys, parseEnviron, type SpareKeysInput } from '../../../../src/fleet/manager/pool-keys.js';

const base: SpareKeysInput = { provider: 'openai', spareEnv: {}, managerEnv: {}, requestKeys: {}, configured: {} };

describe('differingKeys', () => {
  it.each<[string, Partial<SpareKeysInput>, string[]]>([
    ['no keys anywhere', {}, []],
    ['the same key from the manager', { managerEnv: { OPENAI_API_KEY: 'a' }, spareEnv: { OPENAI_API_KEY: 'a' } }, []],
    ['the request brings the key the spare has', { requestKeys: { OPENAI_API_KEY: 'a' }, spareEnv: { OPENAI_API_KEY: 'a' } }, []],
    ['the request brings a newer key', { managerEnv: { OPENAI_API_KEY: 'old' }, requestKeys: { OPENAI_API_KEY: 'new' }, spareEnv: { OPENAI_API_KEY: 'old' } }, ['OPENAI_API_KEY']],
    ['the spare has a key the request does not', { spareEnv: { OPENAI_API_KEY: 'a' } }, ['OPENAI_API_KEY']],
    ['the request has a key the spare lacks', { requestKeys: { LLMSPELL_PROVIDER_OPENAI_MODEL: 'm' } }, ['LLMSPELL_PROVIDER_OPENAI_MODEL']],
    ['config sets the key for both', { configured: { OPENAI_API_KEY: 'c' }, requestKeys: { OPENAI_API_KEY: 'mine' }, spareEnv: { OPENAI_API_KEY: 'c' } }, []],
    ['another provider\'s key does not matter', { requestKeys: { ANTHROPIC_API_KEY: 'x' } }, []],
    ['an empty value is no key', { requestKeys: { OPENAI_API_KEY: '' } }, []],
  ])('%s', (_name, over, expected) => {
    expect(differingKeys({ ...base, ...over })).toEqual(expected);
  });
});

describe('parseEnviron', () => {
  it.each([
    ['names and values, = inside a value', 'A=1\0B=x=y\0', { A: '1', B: 'x=y' }],
    ['an empty value', 'A=\0', { A: '' }],
    ['nothing', '', {}],
    ['an entry without =', 'JUNK\0A=1', { A: '1' }],
  ])('%s', (_name, text, expected) => {
    expect(parseEnviron(text)).toEqual(expected);
  });
});
