import { describe, expect, it } from 'vitest';
import { lastLines } from '../../../src/fleet/log-tail.js';

describe('lastLines', () => {
  it.each([
    // a log's tail, as written: blank lines kept, one newline at the end
    { text: 'a\nb\nc\n', n: 2, options: {}, expected: 'b\nc\n' },
    { text: 'a\nb\nc', n: 2, options: {}, expected: 'b\nc\n' },
    { text: 'a\nb\n', n: 5, options: {}, expected: 'a\nb\n' },
    { text: 'a\nb\n', n: 0, options: {}, expected: '' },
    { text: '', n: 3, options: {}, expected: '' },
    { text: '\n\nx\n', n: 2, options: {}, expected: '\nx\n' },
    { text: 'a\r\nb\r\n', n: 1, options: {}, expected: 'b\r\n' },
    { text: 'cut-off\nwhole\n', n: 5, options: { firstLineIsPartial: true }, expected: 'whole\n' },
    { text: 'cut-off', n: 5, options: { firstLineIsPartial: true }, expected: '' },
    // an error's excerpt: non-blank lines only, no newline at the end
    { text: '', n: 20, options: { asMessage: true }, expected: '' },
    { text: 'a\nb\nc\n', n: 2, options: { asMessage: true }, expected: 'b\nc' },
    { text: 'a\r\n\r\nb\n  \n', n: 5, options: { asMessage: true }, expected: 'a\nb' },
    { text: 'cut-off\nwhole\n', n: 5, options: { asMessage: true, firstLineIsPartial: true }, expected: 'whole' },
    { text: 'a\nb', n: 0, options: { asMessage: true }, expected: '' },
  ])('$text (n=$n, $options)', ({ text, n, options, expected }) => {
    expect(lastLines(text, n, options)).toBe(expected);
  });
});
