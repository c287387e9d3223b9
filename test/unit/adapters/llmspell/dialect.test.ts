import { describe, expect, it } from 'vitest';
import { isNullResult, isScriptErrorText, parseIopub, parseScriptError, sameData } from '../../../../src/adapters/llmspell/dialect.js';
import { iopubFrames, TRACE_FILES } from './traces.js';

const CHUNK = '[string "llmspell-bridge/src/lua/engine.rs:267:65"]';
const ENGINE = 'Error: Script execution failed: Component error: lua engine execution error: ';
// The stderr texts exactly as llmspell 0.14.1 sent them (see the traces).
const SYNTAX_PLUS = `${ENGINE}syntax error: ${CHUNK}:2: syntax error near '+'\n`;
const SYNTAX_IS = `${ENGINE}syntax error: ${CHUNK}:1: syntax error near 'is'\n`;
const RUNTIME_BOOM = `${ENGINE}runtime error: ${CHUNK}:1: boom\nstack traceback:\n\t[C]: in ?\n\t[C]: in function 'error'\n\t${CHUNK}:1: in main chunk\n`;

const buf = (s: string) => Buffer.from(s, 'utf8');

describe('parseIopub reads every iopub message llmspell sent', () => {
  const cases = TRACE_FILES.flatMap((file) => iopubFrames(file).map((frames, i) => [`${file} #${i}`, frames] as const));

  it('the traces hold the 25 messages of the 7 executes that ran, in each trace', () => {
    expect(cases).toHaveLength(2 * 25);
  });

  it.each(cases)('%s', (_name, frames) => {
    expect(frames).toHaveLength(1);
    const whole = JSON.parse((frames[0] as Buffer).toString('utf8')) as { header: { msg_type: string }; content: unknown };
    expect(parseIopub(frames)).toEqual({ msgType: whole.header.msg_type, content: whole.content });
  });
});

describe('parseIopub, other shapes', () => {
  const header = JSON.stringify({ msg_id: 'm1', msg_type: 'stream', session: 's', username: 'kernel', version: '5.3', date: '' });
  const content = JSON.stringify({ name: 'stdout', text: 'hi\n' });
  const multipart = (...head: string[]) => [...head, '<IDS|MSG>', 'sig', header, '{}', '{}', content].map(buf);

  it.each([
    ['topic, delimiter, signature, four JSON frames', multipart('kernel.abc.stream')],
    ['no topic', multipart()],
    ['two identity frames', multipart('a', 'b')],
    ['with a buffer after content', [...multipart('t'), Buffer.from([0, 1, 2])]],
  ])('the standard multipart form: %s', (_name, frames) => {
    expect(parseIopub(frames)).toEqual({ msgType: 'stream', content: { name: 'stdout', text: 'hi\n' } });
  });

  it.each<[string, Buffer[]]>([
    ['no frames', []],
    ['an empty frame', [Buffer.alloc(0)]],
    ['not JSON', [buf('garbage{')]],
    ['a JSON array', [buf('[1,2]')]],
    ['JSON null', [buf('null')]],
    ['no header', [buf('{"content":{}}')]],
    ['no content', [buf('{"header":{"msg_type":"status"}}')]],
    ['content an array', [buf('{"header":{"msg_type":"status"},"content":[]}')]],
    ['msg_type not a string', [buf('{"header":{"msg_type":7},"content":{}}')]],
    ['two frames and no delimiter', [buf('{"header":{"msg_type":"status"},"content":{}}'), buf('{}')]],
    ['a multipart cut before content', ['t', '<IDS|MSG>', 'sig', header, '{}', '{}'].map(buf)],
    ['a multipart with invalid header JSON', ['<IDS|MSG>', 'sig', '{', '{}', '{}', content].map(buf)],
    ['invalid UTF-8', [Buffer.from([0xff, 0xfe, 0x7b])]],
  ])('%s is undefined', (_name, frames) => {
    expect(parseIopub(frames)).toBeUndefined();
  });
});

describe('parseScriptError', () => {
  it.each([
    ['the syntax error of `x = 41\\nx + 1`', SYNTAX_PLUS, 'LuaSyntaxError', "line 2: syntax error near '+'", ["LuaSyntaxError: line 2: syntax error near '+'"]],
    ['the syntax error of `this is not lua`', SYNTAX_IS, 'LuaSyntaxError', "line 1: syntax error near 'is'", ["LuaSyntaxError: line 1: syntax error near 'is'"]],
    [
      "the runtime error of `error('boom')`, with its traceback",
      RUNTIME_BOOM,
      'LuaRuntimeError',
      'line 1: boom',
      ['LuaRuntimeError: line 1: boom', 'stack traceback:', '\t[C]: in ?', "\t[C]: in function 'error'", '\tcell:1: in main chunk'],
    ],
    [
      "a runtime error without a location (error('boom', 0))",
      `${ENGINE}runtime error: boom\nstack traceback:\n\t[C]: in ?\n`,
      'LuaRuntimeError',
      'boom',
      ['LuaRuntimeError: boom', 'stack traceback:', '\t[C]: in ?'],
    ],
    [
      'a runtime error in a function defined in the cell',
      `${ENGINE}runtime error: ${CHUNK}:2: attempt to call a nil value (global 'nope')\nstack traceback:\n\t${CHUNK}:2: in function 'f'\n\t${CHUNK}:4: in main chunk\n`,
      'LuaRuntimeError',
      "line 2: attempt to call a nil value (global 'nope')",
      ["LuaRuntimeError: line 2: attempt to call a nil value (global 'nope')", 'stack traceback:', "\tcell:2: in function 'f'", '\tcell:4: in main chunk'],
    ],
    [
      'an error without the `Component error:` layer',
      `Error: Script execution failed: lua engine execution error: syntax error: ${CHUNK}:3: unexpected symbol near '<eof>'\n`,
      'LuaSyntaxError',
      "line 3: unexpected symbol near '<eof>'",
      ["LuaSyntaxError: line 3: unexpected symbol near '<eof>'"],
    ],
  ])('%s', (_name, text, ename, evalue, traceback) => {
    expect(isScriptErrorText(text)).toBe(true);
    expect(parseScriptError(text)).toEqual({ ename, evalue, traceback });
  });

  it('the texts above are the stderr texts of the traces, byte for byte', () => {
    const stderr = TRACE_FILES.flatMap((file) =>
      iopubFrames(file)
        .map((frames) => parseIopub(frames))
        .filter((e) => e?.msgType === 'stream' && e.content.name === 'stderr')
        .map((e) => e?.content.text),
    );
    expect(stderr).toHaveLength(6);
    expect(new Set(stderr)).toEqual(new Set([SYNTAX_PLUS, RUNTIME_BOOM, SYNTAX_IS]));
  });

  it('no mention of llmspell\'s chunk name is left', () => {
    for (const text of [SYNTAX_PLUS, SYNTAX_IS, RUNTIME_BOOM]) {
      expect(JSON.stringify(parseScriptError(text))).not.toContain('engine.rs');
    }
  });

  it.each([
    ['no offset', 0, 'line 5: boom', '\tcell:5: in main chunk'],
    ['two lines the adapter put first', 2, 'line 3: boom', '\tcell:3: in main chunk'],
    ['an error on a line the adapter put first is line 1, never 0 or less', 7, 'line 1: boom', '\tcell:1: in main chunk'],
  ])('lineOffset maps llmspell\'s line to the cell\'s: %s', (_name, lineOffset, evalue, frame) => {
    const text = `${ENGINE}runtime error: ${CHUNK}:5: boom\nstack traceback:\n\t[C]: in function 'error'\n\t${CHUNK}:5: in main chunk\n`;
    const error = parseScriptError(text, { lineOffset });
    expect(error?.evalue).toBe(evalue);
    expect(error?.traceback.at(-1)).toBe(frame);
  });

  it.each([
    [
      'a provider failure',
      'Error: Script execution failed: Component error: provider error: connection refused\n',
      'provider error: connection refused',
    ],
    ['a failure with no Component layer', 'Error: Script execution failed: timeout after 300s', 'timeout after 300s'],
    ['a Lua engine error of another kind', `${ENGINE}memory error: not enough memory\n`, 'lua engine execution error: memory error: not enough memory'],
  ])('a non-Lua llmspell error keeps llmspell\'s words: %s', (_name, text, evalue) => {
    expect(parseScriptError(text)).toEqual({ ename: 'LlmspellError', evalue, traceback: [`LlmspellError: ${evalue}`] });
  });

  it.each([
    ['ordinary stderr', 'warning: something\n'],
    ['the prefix not at the start', `note: ${SYNTAX_PLUS}`],
    ['empty', ''],
    ['the prefix in other case', SYNTAX_PLUS.toLowerCase()],
  ])('text that is not an error is undefined: %s', (_name, text) => {
    expect(isScriptErrorText(text)).toBe(false);
    expect(parseScriptError(text)).toBeUndefined();
  });
});

describe('isNullResult', () => {
  it.each<[string, Record<string, unknown>, boolean]>([
    ['llmspell\'s null for a cell that returns nothing', { data: { 'text/plain': 'null' }, metadata: {}, execution_count: 1 }, true],
    ['a result', { data: { 'text/plain': '2' }, metadata: {} }, false],
    ['the string "null" quoted', { data: { 'text/plain': '"null"' } }, false],
    ['null with another mime type too', { data: { 'text/plain': 'null', 'text/html': '<b>null</b>' } }, false],
    ['null as JSON, not text', { data: { 'application/json': null } }, false],
    ['JSON null value', { data: { 'text/plain': null } }, false],
    ['no data', { metadata: {} }, false],
    ['data not an object', { data: 'null' }, false],
    ['empty data', { data: {} }, false],
  ])('%s: %s', (_name, content, expected) => {
    expect(isNullResult(content)).toBe(expected);
  });
});

describe('sameData', () => {
  const two = { data: { 'text/plain': '2' }, metadata: {} };
  it.each<[string, Record<string, unknown>, Record<string, unknown>, boolean]>([
    ['display_data and execute_result of `return 1 + 1`', two, { data: { 'text/plain': '2' }, metadata: {}, execution_count: 2 }, true],
    ['key order aside', { data: { 'text/plain': 'a', 'text/html': 'b' } }, { data: { 'text/html': 'b', 'text/plain': 'a' } }, true],
    ['metadata aside', { data: { 'text/plain': '2' }, metadata: { a: 1 } }, two, true],
    ['different text', two, { data: { 'text/plain': '3' } }, false],
    ['an extra mime type', two, { data: { 'text/plain': '2', 'text/html': '2' } }, false],
    ['a missing mime type', { data: { 'text/plain': '2', 'text/html': '2' } }, two, false],
    ['same count, different keys', { data: { 'text/plain': '2' } }, { data: { 'text/html': '2' } }, false],
    ['nested JSON equal', { data: { 'application/json': { a: [1, 2] } } }, { data: { 'application/json': { a: [1, 2] } } }, true],
    ['nested JSON different', { data: { 'application/json': { a: [1, 2] } } }, { data: { 'application/json': { a: [2, 1] } } }, false],
    ['both without data', {}, {}, true],
  ])('%s', (_name, a, b, expected) => {
    expect(sameData(a, b)).toBe(expected);
    expect(sameData(b, a)).toBe(expected);
  });
});
