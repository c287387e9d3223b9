import { describe, expect, it } from 'vitest';
import { parseHttpInfo } from '../../../../../src/fleet/manager/http/http-file.js';

describe('parseHttpInfo', () => {
  const good = { url: 'http://127.0.0.1:1', token: 't', pid: 5 };
  it.each([
    ['a good file', JSON.stringify(good), good],
    ['extra fields are dropped', JSON.stringify({ ...good, more: 1 }), good],
    ['not JSON', '{', undefined],
    ['null', 'null', undefined],
    ['a pid that is a string', JSON.stringify({ ...good, pid: '5' }), undefined],
    ['no token', JSON.stringify({ url: good.url, pid: 5 }), undefined],
  ])('%s', (_name, text, expected) => {
    expect(parseHttpInfo(text)).toEqual(expected);
  });
});
