import { describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import { expandArgv, placeholdersIn, unknownPlaceholders, type TemplateVars } from '../../../src/fleet/template.js';

const vars: TemplateVars = {
  connection_file: '/h/backends/k.json',
  kernel_id: 'lua-openai-1234abcd',
  runtime: 'lua',
  provider: 'openai',
  config: '/cfg/with space/$HOME;rm -rf.toml',
  resource_dir: undefined,
};

describe('expandArgv', () => {
  it.each<[string, string[], string[]]>([
    ['whole elements', ['k', '{connection_file}'], ['k', '/h/backends/k.json']],
    ['mid-string', ['--file={connection_file}', 'x{runtime}-{provider}y'], ['--file=/h/backends/k.json', 'xlua-openaiy']],
    ['repeated', ['{runtime}{runtime}'], ['lualua']],
    ['shell metacharacters stay one element', ['--config', '{config}'], ['--config', '/cfg/with space/$HOME;rm -rf.toml']],
    ['literal braces that are not placeholders', ['{}', '{"a":1}', '{Foo}', '{a-b}', '{ x }'], ['{}', '{"a":1}', '{Foo}', '{a-b}', '{ x }']],
    ['no placeholders', ['tslab', 'kernel'], ['tslab', 'kernel']],
    ['empty template', [], []],
  ])('%s', (_name, template, expected) => {
    expect(expandArgv(template, vars)).toEqual(expected);
  });

  it('does not interpret $ patterns in values', () => {
    expect(expandArgv(['{runtime}'], { runtime: "$&$1$'" })).toEqual(["$&$1$'"]);
  });

  it.each<[string, string[], TemplateVars, string, number]>([
    ['unknown placeholder', ['a', '{nope}'], vars, 'nope', 1],
    ['value explicitly undefined', ['{resource_dir}'], vars, 'resource_dir', 0],
    ['value absent', ['x', 'y', '--k={kernel_id}'], { runtime: 'lua' }, 'kernel_id', 2],
  ])('%s -> BAD_CONFIG naming the placeholder', (_name, template, given, placeholder, index) => {
    let err: unknown;
    try {
      expandArgv(template, given, { where: 'runtimes.lua.argv' });
    } catch (e) {
      err = e;
    }
    expect(isFleetError(err) && err.code).toBe('BAD_CONFIG');
    expect(isFleetError(err) && err.context).toMatchObject({ placeholder, index, where: 'runtimes.lua.argv' });
    expect((err as Error).message).toContain(`{${placeholder}}`);
    expect((err as Error).message).toContain(`runtimes.lua.argv[${index}]`);
  });

  it('puts the hint for a missing value in the message', () => {
    expect(() => expandArgv(['{config}'], {}, { hints: { config: 'set providers.openai.config' } })).toThrow(
      /set providers\.openai\.config/,
    );
  });

  it('keeps unknown placeholders when not strict (kernelspec argv)', () => {
    expect(expandArgv(['{prefix}/bin/x', '{connection_file}'], vars, { strict: false })).toEqual([
      '{prefix}/bin/x',
      '/h/backends/k.json',
    ]);
  });
});

describe('placeholder scanning', () => {
  it.each([
    ['a{runtime}b{nope}', ['runtime', 'nope']],
    ['{"x":1}', []],
    ['{}', []],
  ])('placeholdersIn(%s)', (input, expected) => {
    expect(placeholdersIn(input)).toEqual(expected);
  });

  it('unknownPlaceholders lists index and name', () => {
    expect(unknownPlaceholders(['{runtime}', 'x{foo}{bar}', '{config}'])).toEqual([
      { index: 1, name: 'foo' },
      { index: 1, name: 'bar' },
    ]);
  });
});
