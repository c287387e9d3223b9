import { describe, expect, it } from 'vitest';
import { History, type HistoryRequest } from '../../../../src/adapters/llmspell/history.js';

/** Lines 1..6 as a session would have them; line 3 failed and has no output. */
function session(): History {
  const h = new History();
  const cells: [string, string | undefined][] = [
    ['x = 41', undefined],
    ['return x + 1', '42'],
    ['x + 1', undefined],
    ['print(x)', undefined],
    ['return x + 1', '42'],
    ['return "done"', '"done"'],
  ];
  cells.forEach(([input, output], i) => {
    h.add(i + 1, input);
    if (output !== undefined) h.setOutput(i + 1, output);
  });
  return h;
}

const lines = (request: HistoryRequest) => session().query(request).map((e) => e.line);

describe('History', () => {
  it.each<[string, HistoryRequest, number[]]>([
    ['tail n', { hist_access_type: 'tail', n: 2 }, [5, 6]],
    ['tail n larger than the history', { hist_access_type: 'tail', n: 100 }, [1, 2, 3, 4, 5, 6]],
    ['tail without n: everything', { hist_access_type: 'tail' }, [1, 2, 3, 4, 5, 6]],
    ['tail n = 0', { hist_access_type: 'tail', n: 0 }, []],
    ['range [start, stop)', { hist_access_type: 'range', start: 2, stop: 4 }, [2, 3]],
    ['range without stop: to the end', { hist_access_type: 'range', start: 5 }, [5, 6]],
    ['range with a null stop (as JSON sends it)', { hist_access_type: 'range', start: 5, stop: null as unknown as number }, [5, 6]],
    ['range without start: from the first line', { hist_access_type: 'range', stop: 3 }, [1, 2]],
    ['range past the end', { hist_access_type: 'range', start: 10, stop: 20 }, []],
    ['search: a glob over the whole input', { hist_access_type: 'search', pattern: 'return*' }, [2, 5, 6]],
    ['search: the glob must match the whole input', { hist_access_type: 'search', pattern: 'x' }, []],
    ['search: * inside', { hist_access_type: 'search', pattern: '*x*' }, [1, 2, 3, 4, 5]],
    ['search: ? is one character', { hist_access_type: 'search', pattern: 'x ? 1' }, [3]],
    ['search: regex characters are literal', { hist_access_type: 'search', pattern: 'print(x)' }, [4]],
    ['search: a dot is literal', { hist_access_type: 'search', pattern: 'x . 1' }, []],
    ['search without a pattern: everything', { hist_access_type: 'search' }, [1, 2, 3, 4, 5, 6]],
    ['search: n keeps the latest n', { hist_access_type: 'search', pattern: 'return*', n: 2 }, [5, 6]],
    ['an unknown access type', { hist_access_type: 'session' }, []],
    ['no access type', {}, []],
  ])('%s', (_name, request, expected) => {
    expect(lines(request)).toEqual(expected);
  });

  it('search: a glob spans lines of a multi-line input', () => {
    const h = new History();
    h.add(1, 'for i = 1, 3 do\n  print(i)\nend');
    expect(h.query({ hist_access_type: 'search', pattern: 'for*end' }).map((e) => e.line)).toEqual([1]);
  });

  // IPython's search with unique=True groups by input and keeps each input's latest line
  // (HistoryAccessor.search: GROUP BY source with MAX(session, line)). Fails against history.ts as
  // written, which keeps the first occurrence: `return x + 1` comes back as line 2, not line 5.
  it('search unique: each input once, at its latest line', () => {
    expect(lines({ hist_access_type: 'search', pattern: 'return*', unique: true })).toEqual([5, 6]);
  });

  it('search unique with n: the latest n distinct inputs', () => {
    const found = session().query({ hist_access_type: 'search', pattern: '*', unique: true, n: 2 });
    expect(found.map((e) => e.input)).toEqual(['return x + 1', 'return "done"']);
  });

  it('reply without output: [session, line, input]', () => {
    expect(session().reply({ hist_access_type: 'tail', n: 2 })).toEqual({
      status: 'ok',
      history: [
        [1, 5, 'return x + 1'],
        [1, 6, 'return "done"'],
      ],
    });
  });

  it('reply with output: [session, line, [input, output]], null where the cell had none', () => {
    expect(session().reply({ hist_access_type: 'range', start: 2, stop: 5, output: true })).toEqual({
      status: 'ok',
      history: [
        [1, 2, ['return x + 1', '42']],
        [1, 3, ['x + 1', null]],
        [1, 4, ['print(x)', null]],
      ],
    });
  });

  it('setOutput sets the latest entry of that line and nothing else', () => {
    const h = new History();
    h.add(1, 'a');
    h.add(2, 'b');
    h.setOutput(2, 'B');
    h.setOutput(9, 'nowhere');
    expect(h.reply({ hist_access_type: 'tail', output: true })).toEqual({
      status: 'ok',
      history: [
        [1, 1, ['a', null]],
        [1, 2, ['b', 'B']],
      ],
    });
  });

  it('keeps the latest 10 000 entries', () => {
    const h = new History();
    for (let line = 1; line <= 10_005; line++) h.add(line, `c${line}`);
    const all = h.query({ hist_access_type: 'tail' });
    expect(all).toHaveLength(10_000);
    expect(all[0]?.line).toBe(6);
    expect(all.at(-1)?.line).toBe(10_005);
  });

  it('a query returns a copy: changing it does not change the history', () => {
    const h = session();
    h.query({ hist_access_type: 'tail' }).length = 0;
    expect(h.query({ hist_access_type: 'tail' })).toHaveLength(6);
  });
});
