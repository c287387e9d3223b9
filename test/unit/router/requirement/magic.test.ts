import { describe, expect, it } from 'vitest';
import {
  fleetMagicCompletions,
  helpText,
  parseFleetMagic,
  type FleetMagic,
  type MagicCompletion,
} from '../../../../src/router/requirement/magic.js';

describe('parseFleetMagic', () => {
  it.each<[string, string, FleetMagic | undefined]>([
    ['ordinary code', 'print(1)', undefined],
    ['the cell directive is not a line magic', '%%llmspell runtime=lua\nx', undefined],
    ['a longer word is not ours', '%llmspellx use lua', undefined],
    ['magic later in the cell is not ours', 'x = 1\n%llmspell use lua', undefined],
    ['alone: help', '%llmspell', { kind: 'help' }],
    ['help', '%llmspell help', { kind: 'help' }],
    ['--help', '%llmspell --help', { kind: 'help' }],
    ['status', '%llmspell status', { kind: 'status' }],
    ['list', '%llmspell list', { kind: 'list' }],
    ['replay', '%llmspell replay', { kind: 'replay' }],
    ['surrounding whitespace', '\n  %llmspell   list  \n', { kind: 'list' }],
    ['use runtime', '%llmspell use python', { kind: 'use', runtime: 'python' }],
    ['use runtime provider', '%llmspell use lua anthropic', { kind: 'use', runtime: 'lua', provider: 'anthropic' }],
  ])('%s', (_name, code, expected) => {
    expect(parseFleetMagic(code)).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    ['unknown command lists the known ones', '%llmspell usee lua', /unknown command "%llmspell usee"; use one of: use, status, list, replay, help/],
    ['use without a runtime', '%llmspell use', /use RUNTIME \[PROVIDER\]/],
    ['use with too many words', '%llmspell use lua openai more', /use RUNTIME \[PROVIDER\]/],
    ['bad runtime name', '%llmspell use lua,', /runtime "lua," is not a valid name/],
    ['bad provider name', '%llmspell use lua @x', /provider "@x" is not a valid name/],
    ['status with arguments', '%llmspell status all', /status takes no arguments/],
    ['replay with arguments', '%llmspell replay 2', /replay takes no arguments/],
    ['magic with code after it', '%llmspell use lua\nprint(1)', /alone in its cell.*%%llmspell runtime=R/],
  ])('error: %s', (_name, code, message) => {
    const magic = parseFleetMagic(code);
    expect(magic?.kind).toBe('error');
    expect(magic?.kind === 'error' && magic.message).toMatch(message);
  });
});

describe('fleetMagicCompletions', () => {
  const known = { runtimes: ['javascript', 'lua', 'python'], providers: ['anthropic', 'ollama', 'openai'] };
  it.each<[string, string, number, MagicCompletion | undefined]>([
    ['not ours', 'prin', 4, undefined],
    ['the magic word itself is left to the backend', '%llmsp', 6, undefined],
    ['commands after the magic', '%llmspell ', 10, { matches: ['use', 'status', 'list', 'replay', 'help'], cursor_start: 10, cursor_end: 10 }],
    ['r: replay', '%llmspell r', 11, { matches: ['replay'], cursor_start: 10, cursor_end: 11 }],
    ['command prefix', '%llmspell u', 11, { matches: ['use'], cursor_start: 10, cursor_end: 11 }],
    ['l: list only', '%llmspell l', 11, { matches: ['list'], cursor_start: 10, cursor_end: 11 }],
    ['runtimes after use', '%llmspell use ', 14, { matches: known.runtimes, cursor_start: 14, cursor_end: 14 }],
    ['runtime prefix', '%llmspell use p', 15, { matches: ['python'], cursor_start: 14, cursor_end: 15 }],
    ['providers after the runtime', '%llmspell use lua o', 19, { matches: ['ollama', 'openai'], cursor_start: 18, cursor_end: 19 }],
    ['nothing after the provider', '%llmspell use lua openai ', 25, { matches: [], cursor_start: 25, cursor_end: 25 }],
    ['nothing after status', '%llmspell status ', 17, { matches: [], cursor_start: 17, cursor_end: 17 }],
    ['cursor mid-line completes what is before it', '%llmspell u lua', 11, { matches: ['use'], cursor_start: 10, cursor_end: 11 }],
    ['directive keys', '%%llmspell ', 11, { matches: ['runtime=', 'provider=', 'group='], cursor_start: 11, cursor_end: 11 }],
    ['directive key prefix', '%%llmspell pr', 13, { matches: ['provider='], cursor_start: 11, cursor_end: 13 }],
    ['directive keys already used are left out', '%%llmspell runtime=lua ', 23, { matches: ['provider=', 'group='], cursor_start: 23, cursor_end: 23 }],
    ['directive runtime values', '%%llmspell runtime=j', 20, { matches: ['javascript'], cursor_start: 19, cursor_end: 20 }],
    ['directive provider values', '%%llmspell provider=', 20, { matches: known.providers, cursor_start: 20, cursor_end: 20 }],
    ['directive group has no list', '%%llmspell group=', 17, { matches: [], cursor_start: 17, cursor_end: 17 }],
    ['directive only on the first line', 'x\n%%llmspell ', 13, undefined],
    ['magic on a later line of the cell', 'x\n%llmspell u', 13, { matches: ['use'], cursor_start: 12, cursor_end: 13 }],
    ['cursor past the end', '%llmspell ', 99, undefined],
    ['negative cursor', '%llmspell ', -1, undefined],
  ])('%s', (_name, code, cursor, expected) => {
    expect(fleetMagicCompletions(code, cursor, known)).toEqual(expected);
  });

  it('counts the cursor in code points, as the protocol does', () => {
    const code = '# 🙂\n%llmspell use p';
    const cursor = [...code].length;
    expect(code.length).toBe(cursor + 1); // the emoji is two UTF-16 units
    expect(fleetMagicCompletions(code, cursor, known)).toEqual({ matches: ['python'], cursor_start: cursor - 1, cursor_end: cursor });
  });
});

describe('helpText', () => {
  it.each(['%llmspell use RUNTIME [PROVIDER]', '%llmspell status', '%llmspell list', '%llmspell replay', '%%llmspell runtime=', 'llmspell_runtime', 'llmspell:runtime=R', '"llmspell"', 'LLMSPELL_RUNTIME', 'llmspell-fleet.toml'])(
    'mentions %s',
    (word) => {
      expect(helpText()).toContain(word);
    },
  );
});
