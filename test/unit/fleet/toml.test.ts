import { describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import { keyLine, parseToml } from '../../../src/fleet/toml.js';

const FILE = `# fleet
default_runtime = "lua"
router.restart_limit = 2

[runtimes.lua]
argv = [
  "llmspell",
  "{connection_file}",
]
env = { A = "1", "1B" = "2" }

[runtimes."my.kernel"]
kernelspec = 'k'   # comment

[ providers . openai ]
config = "a = b"
`;

describe('keyLine', () => {
  it.each<[string, Array<string | number>, number | undefined]>([
    ['a top-level key', ['default_runtime'], 2],
    ['a dotted key sets its table', ['router', 'restart_limit'], 3],
    ['a table header', ['runtimes', 'lua'], 5],
    ['a key under a header', ['runtimes', 'lua', 'argv'], 6],
    ['an array element is its key', ['runtimes', 'lua', 'argv', 1], 6],
    ['a key in an inline table is the inline table', ['runtimes', 'lua', 'env', '1B'], 10],
    ['a quoted header segment', ['runtimes', 'my.kernel', 'kernelspec'], 13],
    ['spaces around dots in a header', ['providers', 'openai', 'config'], 16],
    ['a missing key falls back to its table', ['runtimes', 'lua', 'language'], 5],
    ['a key written nowhere', ['linger_seconds'], undefined],
    ['the root itself', [], undefined],
  ])('%s', (_name, path, line) => {
    expect(keyLine(FILE, path)).toBe(line);
  });

  it('does not mistake "=" inside an array element for a key', () => {
    expect(keyLine('[r]\nargv = [\n  "--x={y}",\n]\n', ['r', 'argv', 0])).toBe(2);
  });
});

describe('parseToml', () => {
  it('returns the document', () => {
    expect(parseToml('a = 1\n[b]\nc = "d"\n', '/f.toml')).toEqual({ a: 1, b: { c: 'd' } });
  });

  it.each([
    ['no hint', '', /^\/f\.toml:2:\d+: TOML syntax error: [^;]+$/],
    ['a hint', '; fix the file or delete it', /^\/f\.toml:2:\d+: TOML syntax error: .*; fix the file or delete it$/],
  ])('a syntax error names file, line and column, with %s', (_name, hint, message) => {
    let err: unknown;
    try {
      parseToml('a = 1\nb = \n', '/f.toml', hint);
    } catch (e) {
      err = e;
    }
    expect(isFleetError(err) && err.code).toBe('BAD_CONFIG');
    expect(isFleetError(err) && err.context).toMatchObject({ source: '/f.toml', line: 2 });
    expect((err as Error).message).toMatch(message);
  });
});
