import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { envWithHome, parseGroup, parseLineCount, parseStopTarget, resolveHome, targetString } from '../../../src/cli/fleet-args.js';

describe('parseLineCount', () => {
  it.each([
    ['0', 0],
    ['50', 50],
    [' 7 ', 7],
  ])('%j -> %d', (input, expected) => {
    expect(parseLineCount(input)).toBe(expected);
  });

  it.each(['', '-1', '1.5', 'abc', '10x'])('%j is refused', (input) => {
    expect(() => parseLineCount(input)).toThrow(InvalidArgumentError);
  });
});

describe('parseGroup', () => {
  it.each(['team-a', 'g1', 'A.b_c'])('%j is accepted', (g) => {
    expect(parseGroup(g)).toBe(g);
  });
  it.each(['', '-x', 'a/b', '../up', 'has space'])('%j is refused', (g) => {
    expect(() => parseGroup(g)).toThrow(InvalidArgumentError);
  });
});

describe('parseStopTarget', () => {
  it.each([
    ['lua-openai-1a2b3c4d', { kind: 'id', id: 'lua-openai-1a2b3c4d' }],
    [' python-openai-00ff ', { kind: 'id', id: 'python-openai-00ff' }],
    ['41234', { kind: 'port', port: 41234 }],
    ['1', { kind: 'port', port: 1 }],
    ['65535', { kind: 'port', port: 65535 }],
  ])('%j -> %j', (input, expected) => {
    expect(parseStopTarget(input)).toEqual(expected);
    expect(targetString(parseStopTarget(input))).toBe(input.trim());
  });

  it.each(['', '   ', '0', '65536', '99999999'])('%j is refused', (input) => {
    expect(() => parseStopTarget(input)).toThrow(InvalidArgumentError);
  });
});

describe('resolveHome', () => {
  it.each([
    [undefined, { HOME: '/h' }, '/h/.llmspell/fleet'],
    [undefined, { HOME: '/h', LLMSPELL_FLEET_HOME: '/srv/f' }, '/srv/f'],
    ['/opt/fleet', { HOME: '/h', LLMSPELL_FLEET_HOME: '/srv/f' }, '/opt/fleet'],
    ['~/f2', { HOME: '/h' }, '/h/f2'],
    ['', { HOME: '/h', LLMSPELL_FLEET_HOME: '/srv/f' }, '/srv/f'],
  ])('--home %j with %j -> %s', (option, env, expected) => {
    expect(resolveHome(option, env)).toBe(expected);
  });

  it('a relative --home is made absolute', () => {
    expect(resolveHome('rel/f', { HOME: '/h' })).toBe(`${process.cwd()}/rel/f`);
  });
});

describe('envWithHome', () => {
  it('pins LLMSPELL_FLEET_HOME and keeps the rest', () => {
    const env = { PATH: '/bin', LLMSPELL_FLEET_HOME: '/old' };
    expect(envWithHome(env, '/new')).toEqual({ PATH: '/bin', LLMSPELL_FLEET_HOME: '/new' });
    expect(env.LLMSPELL_FLEET_HOME).toBe('/old');
  });
});
