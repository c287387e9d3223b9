/** answerHistory: history_reply content for the session's own cells, in the spec's tuple shapes. */
import { describe, expect, it } from 'vitest';
import { answerHistory, type HistoryEntry, type HistoryRequestContent } from '../../../src/router/session-history.js';
import { globToRegExp } from '../../../src/shared/history-search.js';

const entries: HistoryEntry[] = [
  { line: 1, input: 'x = 1' },
  { line: 2, input: '%llmspell status' },
  { line: 3, input: 'console.log(x)' },
  { line: 4, input: 'x = 1' },
];

describe('answerHistory', () => {
  it.each<[string, HistoryRequestContent, unknown[]]>([
    ['tail n=2', { hist_access_type: 'tail', n: 2, output: false, raw: true }, [[0, 3, 'console.log(x)'], [0, 4, 'x = 1']]],
    ['tail n larger than the session', { hist_access_type: 'tail', n: 100 }, entries.map((e) => [0, e.line, e.input])],
    ['tail without n: all', { hist_access_type: 'tail' }, entries.map((e) => [0, e.line, e.input])],
    ['tail n=0', { hist_access_type: 'tail', n: 0 }, []],
    ['tail with output: (input, null), as IPython without output logging', { hist_access_type: 'tail', n: 1, output: true }, [[0, 4, ['x = 1', null]]]],
    ['range of the current session (0), stop excluded', { hist_access_type: 'range', session: 0, start: 2, stop: 4 }, [[0, 2, '%llmspell status'], [0, 3, 'console.log(x)']]],
    ['range without start and stop: all of it', { hist_access_type: 'range', session: 0 }, entries.map((e) => [0, e.line, e.input])],
    ['search with a glob', { hist_access_type: 'search', pattern: 'x*' }, [[0, 1, 'x = 1'], [0, 4, 'x = 1']]],
    ['search unique keeps the latest', { hist_access_type: 'search', pattern: 'x*', unique: true }, [[0, 4, 'x = 1']]],
    ['search ? and n', { hist_access_type: 'search', pattern: '*(?)', n: 1 }, [[0, 3, 'console.log(x)']]],
    ['an access type the spec does not name', { hist_access_type: 'everything' }, []],
  ])('%s', (_name, request, expected) => {
    expect(answerHistory(entries, request)).toEqual({ status: 'ok', history: expected });
  });

  it.each<[string, readonly HistoryEntry[], HistoryRequestContent]>([
    ['a range of an earlier session (negative)', entries, { hist_access_type: 'range', session: -1, start: 1, stop: 3 }],
    ['a range of a session by its number', entries, { hist_access_type: 'range', session: 7 }],
    ['a tail before the first cell (jupyter console at start)', [], { hist_access_type: 'tail', n: 1000 }],
    ['a search before the first cell', [], { hist_access_type: 'search', pattern: '*' }],
  ])('leaves %s to the default backend', (_name, record, request) => {
    expect(answerHistory(record, request)).toBeUndefined();
  });
});

describe('globToRegExp', () => {
  it.each([
    ['x*', 'x = 1', true],
    ['x*', 'y = x', false],
    ['*print(?)*', 'for i in r:\n  print(i)\n', true],
    ['a.b', 'aXb', false],
    ['[x]', '[x]', true],
  ])('%j matches %j: %s', (glob, input, expected) => {
    expect(globToRegExp(glob).test(input)).toBe(expected);
  });
});
