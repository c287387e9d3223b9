import { describe, expect, it } from 'vitest';
import { completeLines, followParam } from '../../../../../src/fleet/manager/http/log-follow.js';

describe('completeLines', () => {
  it.each([
    ['', [], ''],
    ['partial', [], 'partial'],
    ['one\n', ['one'], ''],
    ['one\ntwo\npart', ['one', 'two'], 'part'],
    ['crlf\r\n', ['crlf'], ''],
    ['\n\n', ['', ''], ''],
  ])('%j', (pending, lines, rest) => {
    expect(completeLines(pending)).toEqual({ lines, rest });
  });
});

describe('followParam', () => {
  it.each([
    ['follow=1', true],
    ['follow=true', true],
    ['follow=0', false],
    ['follow=', false],
    ['tail=3', false],
  ])('%s → %s', (query, on) => {
    expect(followParam(new URLSearchParams(query))).toBe(on);
  });
});
