import { describe, expect, it } from 'vitest';
import { firstContentLine, parseCellDirective, type DirectiveResult } from '../../../../src/router/requirement/directive.js';

describe('parseCellDirective', () => {
  it.each<[string, string, DirectiveResult | undefined]>([
    ['no directive', 'print(1)', undefined],
    ['empty cell', '', undefined],
    ['blank cell', '\n  \n', undefined],
    ['directive not on the first line', 'x = 1\n%%llmspell runtime=lua', undefined],
    ['a longer magic name is not ours', '%%llmspellx runtime=lua\nx', undefined],
    ['the line magic is not the directive', '%llmspell use lua', undefined],
    ['runtime only', '%%llmspell runtime=lua\nprint(1)', { requirement: { runtime: 'lua' }, code: '\nprint(1)' }],
    ['provider only', '%%llmspell provider=ollama\nx', { requirement: { provider: 'ollama' }, code: '\nx' }],
    [
      'all keys, any order',
      '%%llmspell group=team provider=anthropic runtime=python\nx',
      { requirement: { runtime: 'python', provider: 'anthropic', group: 'team' }, code: '\nx' },
    ],
    ['quoted values', `%%llmspell runtime="lua" provider='openai'\nx`, { requirement: { runtime: 'lua', provider: 'openai' }, code: '\nx' }],
    ['extra spaces and tabs', '%%llmspell   runtime=lua\t provider=openai  \nx', { requirement: { runtime: 'lua', provider: 'openai' }, code: '\nx' }],
    ['leading blank lines are kept', '\n  \n%%llmspell runtime=lua\nx', { requirement: { runtime: 'lua' }, code: '\n  \n\nx' }],
    ['indented directive', '  %%llmspell runtime=lua\nx', { requirement: { runtime: 'lua' }, code: '\nx' }],
    ['CRLF line endings are kept', '%%llmspell runtime=lua\r\nx\r\ny', { requirement: { runtime: 'lua' }, code: '\r\nx\r\ny' }],
    ['directive-only cell', '%%llmspell runtime=lua', { requirement: { runtime: 'lua' }, code: '' }],
    ['names with . _ -', '%%llmspell runtime=lua-5.4 provider=my_llm\nx', { requirement: { runtime: 'lua-5.4', provider: 'my_llm' }, code: '\nx' }],
  ])('%s', (_name, code, expected) => {
    expect(parseCellDirective(code)).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    ['no pairs', '%%llmspell\nx', /names no backend.*runtime=NAME/],
    ['bare word', '%%llmspell lua\nx', /key=value pairs, got "lua"; write e\.g\. runtime=lua/],
    ['unknown key lists the allowed ones', '%%llmspell runtme=lua\nx', /unknown key "runtme"; allowed keys: runtime, provider, group/],
    ['duplicate key', '%%llmspell runtime=lua runtime=python\nx', /gives runtime twice/],
    ['empty value', '%%llmspell runtime=\nx', /runtime "" is not a valid name/],
    ['trailing comma', '%%llmspell runtime=lua, provider=openai\nx', /runtime "lua," is not a valid name/],
    ['path-like value', '%%llmspell provider=../x\nx', /provider "..\/x" is not a valid name/],
  ])('error: %s', (_name, code, message) => {
    const result = parseCellDirective(code);
    expect(result && 'error' in result && result.error).toMatch(message);
  });

  it('keeps the line count, so backend tracebacks point at the right line', () => {
    const code = '%%llmspell runtime=lua\na\nb\nc';
    const result = parseCellDirective(code);
    expect(result && 'code' in result && result.code.split('\n').length).toBe(code.split('\n').length);
  });
});

describe('firstContentLine', () => {
  it.each([
    ['abc', { start: 0, end: 3, text: 'abc' }],
    ['\n\nabc\nd', { start: 2, end: 5, text: 'abc' }],
    ['\r\n x\r\n', { start: 2, end: 4, text: ' x' }],
    ['  \n\t\n', undefined],
  ])('%j', (code, expected) => {
    expect(firstContentLine(code)).toEqual(expected);
  });
});
