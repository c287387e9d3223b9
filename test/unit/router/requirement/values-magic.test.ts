import { describe, expect, it } from 'vitest';
import { fleetMagicCompletions, helpText, parseFleetMagic, type FleetMagic, type MagicCompletion } from '../../../../src/router/requirement/magic.js';

describe('%llmspell get / put', () => {
  it.each<[string, string, FleetMagic]>([
    ['one name from a runtime', '%llmspell get x --from python', { kind: 'get', names: ['x'], runtime: 'python' }],
    ['names and runtime/provider', '%llmspell get a b_2 $c --from lua/openai', { kind: 'get', names: ['a', 'b_2', '$c'], runtime: 'lua', provider: 'openai' }],
    ['the option first', '%llmspell put --to javascript a b', { kind: 'put', names: ['a', 'b'], runtime: 'javascript' }],
    ['--to=', '%llmspell put a --to=lua/anthropic', { kind: 'put', names: ['a'], runtime: 'lua', provider: 'anthropic' }],
    ['a name given twice counts once', '%llmspell get a a --from lua', { kind: 'get', names: ['a'], runtime: 'lua' }],
  ])('%s', (_name, code, expected) => {
    expect(parseFleetMagic(code)).toEqual(expected);
  });

  it.each<[string, string, RegExp]>([
    ['no names', '%llmspell get --from lua', /get NAME \[NAME\.\.\.\] --from RUNTIME\[\/PROVIDER\]/],
    ['no --from', '%llmspell get x', /--from RUNTIME/],
    ['--from without a value', '%llmspell get x --from', /--from RUNTIME/],
    ['put takes --to, not --from', '%llmspell put x --from lua', /unknown option --from/],
    ['--to twice', '%llmspell put x --to lua --to python', /--to given twice/],
    ['not a name', '%llmspell get x.y --from lua', /"x\.y" is not a variable name/],
    ['a name starting with a digit', '%llmspell get 1x --from lua', /"1x" is not a variable name/],
    ['bad runtime', '%llmspell get x --from lu@', /runtime "lu@" is not a valid name/],
    ['bad provider', '%llmspell get x --from lua/o@', /provider "o@" is not a valid name/],
    ['too many slashes', '%llmspell get x --from a/b/c', /--from RUNTIME\[\/PROVIDER\]/],
  ])('error: %s', (_name, code, message) => {
    const magic = parseFleetMagic(code);
    expect(magic?.kind).toBe('error');
    expect(magic?.kind === 'error' && magic.message).toMatch(message);
  });

  const known = { runtimes: ['javascript', 'lua', 'python'], providers: ['openai'] };
  it.each<[string, string, MagicCompletion]>([
    ['get and put are commands', '%llmspell g', { matches: ['get'], cursor_start: 10, cursor_end: 11 }],
    ['no option before a name', '%llmspell get ', { matches: [], cursor_start: 14, cursor_end: 14 }],
    ['the option after a name', '%llmspell get x -', { matches: ['--from'], cursor_start: 16, cursor_end: 17 }],
    ['put offers --to', '%llmspell put x ', { matches: ['--to'], cursor_start: 16, cursor_end: 16 }],
    ['runtimes after the option', '%llmspell get x --from l', { matches: ['lua'], cursor_start: 23, cursor_end: 24 }],
    ['nothing once the option is given', '%llmspell get x --from lua ', { matches: [], cursor_start: 27, cursor_end: 27 }],
  ])('completion: %s', (_name, code, expected) => {
    expect(fleetMagicCompletions(code, [...code].length, known)).toEqual(expected);
  });

  it('help shows both', () => {
    expect(helpText()).toContain('%llmspell get NAME... --from RUNTIME[/PROVIDER]');
    expect(helpText()).toContain('%llmspell put NAME... --to RUNTIME[/PROVIDER]');
  });
});
