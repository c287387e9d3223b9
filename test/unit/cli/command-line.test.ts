import { describe, expect, it } from 'vitest';
import { onlyVersion } from '../../../src/cli/command-line.js';

describe('onlyVersion', () => {
  it.each<[string[], boolean]>([
    [['--version'], true],
    [['-V'], true],
    [['-V', '--version'], true],
    [[], false],
    [['--version', 'router'], false],
    [['router', '--version'], false],
    [['-v'], false],
  ])('%j -> %s', (args, expected) => {
    expect(onlyVersion(args)).toBe(expected);
  });
});
