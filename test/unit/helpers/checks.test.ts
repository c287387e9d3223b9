import { describe, expect, it } from 'vitest';
import { checkProblems, type CheckRun, type ExpectedChecks } from '../../helpers/checks.js';

const passed = (names: string[]): CheckRun => ({
  code: 0,
  timedOut: false,
  result: { ok: true, checks: Object.fromEntries(names.map((n) => [n, { ok: true, detail: null }])) },
});

describe('checkProblems: the verdict on a check script', () => {
  it.each<[string, CheckRun, ExpectedChecks, string[]]>([
    ['all expected checks passed', passed(['a', 'b']), ['a', 'b'], []],
    ['more checks than named are fine', passed(['a', 'b', 'c']), ['b'], []],
    ['exactly these, in order', passed(['a', 'b']), { exactly: ['a', 'b'] }, []],
    ['at least n of any name', passed(['x', 'y']), { atLeast: 2 }, []],
    ['no result line', { code: 1, timedOut: false, result: undefined }, ['a'], ['the script printed no result line with "checks"']],
    ['a result without checks', { code: 0, timedOut: false, result: { ok: true } }, { atLeast: 1 }, ['the script printed no result line with "checks"']],
    ['killed for taking too long', { code: null, timedOut: true, result: undefined }, ['a'], ['the script timed out', 'the script printed no result line with "checks"']],
    ['nothing recorded', { code: 0, timedOut: false, result: { ok: true, checks: {} } }, { atLeast: 1 }, ['the script recorded no check', 'only 0 checks recorded, expected at least 1']],
    ['nothing recorded, names expected', { code: 0, timedOut: false, result: { ok: true, checks: {} } }, ['a'], ['the script recorded no check', 'missing: a']],
    [
      'a failed check, with its detail',
      { code: 1, timedOut: false, result: { ok: false, checks: { a: { ok: true }, b: { ok: false, detail: { pid: 7 } } } } },
      ['a', 'b'],
      ['failed: b: {"pid":7}', 'the result says ok: false', 'exit status 1'],
    ],
    ['a renamed check', passed(['a', 'b2']), ['a', 'b'], ['missing: b']],
    ['exactly: an extra one', passed(['a', 'b', 'c']), { exactly: ['a', 'b'] }, ['unexpected: c']],
    ['exactly: out of order', passed(['b', 'a']), { exactly: ['a', 'b'] }, ['out of order: b, a']],
    ['too few', passed(['a']), { atLeast: 3 }, ['only 1 checks recorded, expected at least 3']],
    ['ok true but exit status 1', { ...passed(['a']), code: 1 }, ['a'], ['exit status 1']],
  ])('%s', (_, run, expected, problems) => {
    expect(checkProblems(run, expected)).toEqual(problems);
  });
});
