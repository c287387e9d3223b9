import { describe, expect, it } from 'vitest';
import { frameHostMessage, MAX_STUB_LINE_BYTES, parseHello, parseStubLine } from '../../../../src/cli/router-host/protocol.js';
import { LineReader } from '../../../../src/fleet/manager/lines.js';

const HELLO = { v: 1, pid: 4242, ppid: 4000, cwd: '/work/nb', argv: ['/usr/bin/node', '/opt/fleet/dist/bundle/main.js', 'router', '--connection-file', '/r/k.json'], env: { HOME: '/home/u', OPENAI_API_KEY: 'sk-secret' } };
const line = (value: unknown) => JSON.stringify(value);

describe('parseHello', () => {
  it('takes a good first line as it is', () => {
    expect(parseHello(line(HELLO))).toEqual({ ok: true, value: HELLO });
  });

  it('ignores fields it does not know', () => {
    expect(parseHello(line({ ...HELLO, tty: true, future: { x: 1 } }))).toEqual({ ok: true, value: HELLO });
  });

  it.each([
    ['not JSON', '{"v":1,', /not JSON/],
    ['not an object', '[1,2]', /not a JSON object/],
    ['null', 'null', /not a JSON object/],
    ['no pid', line({ ...HELLO, pid: undefined }), /^pid /],
    ['pid a string', line({ ...HELLO, pid: '4242' }), /^pid must be a number/],
    ['pid 0', line({ ...HELLO, pid: 0 }), /^pid must be a pid/],
    ['pid fractional', line({ ...HELLO, pid: 1.5 }), /^pid must be a whole number/],
    ['negative ppid', line({ ...HELLO, ppid: -1 }), /^ppid must be >= 0/],
    ['no cwd', line({ ...HELLO, cwd: undefined }), /^cwd /],
    ['empty cwd', line({ ...HELLO, cwd: '' }), /^cwd must not be empty/],
    ['argv not an array', line({ ...HELLO, argv: 'node main.js router' }), /^argv must be an array of strings/],
    ['argv with a number', line({ ...HELLO, argv: ['/usr/bin/node', 7] }), /^argv\[1\] must be a string/],
    ['argv too short', line({ ...HELLO, argv: ['/usr/bin/node'] }), /^argv must hold node and the entry script/],
    ['env not an object', line({ ...HELLO, env: ['A=1'] }), /^env must be an object of strings/],
    ['env value a number', line({ ...HELLO, env: { A: 1 } }), /^env\.A must be a string/],
    ['no version', line({ ...HELLO, v: undefined }), /^v /],
  ])('refuses %s, saying which field', (_name, text, problem) => {
    const parsed = parseHello(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toMatch(problem);
  });

  it('never echoes an environment value in its problem', () => {
    const parsed = parseHello(line({ ...HELLO, env: { OPENAI_API_KEY: 'sk-secret', BAD: ['sk-secret'] } }));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).not.toContain('sk-secret');
  });
});

describe('parseStubLine', () => {
  it.each([
    ['{"signal":"SIGTERM"}', { kind: 'signal', signal: 'SIGTERM' }],
    ['{"signal":"SIGHUP"}', { kind: 'signal', signal: 'SIGHUP' }],
    ['{"signal":"SIGINT","at":1}', { kind: 'signal', signal: 'SIGINT' }],
    ['{"signal":"SIGKILL"}', { kind: 'ignored', reason: 'signal "SIGKILL" is not one the host passes on' }],
    ['{"signal":15}', { kind: 'ignored', reason: 'signal 15 is not one the host passes on' }],
    ['{"resize":[80,24]}', { kind: 'ignored', reason: 'no field this host knows' }],
    ['SIGTERM', { kind: 'ignored', reason: 'not JSON' }],
    ['"SIGTERM"', { kind: 'ignored', reason: 'not a JSON object' }],
  ])('%s -> %j', (text, expected) => {
    expect(parseStubLine(text)).toEqual(expected);
  });
});

describe('frameHostMessage', () => {
  it.each([
    [{ fallback: 'another llmspell-fleet' }, '{"fallback":"another llmspell-fleet"}\n'],
    [{ stderr: 'llmspell-fleet: cannot start\n' }, '{"stderr":"llmspell-fleet: cannot start\\n"}\n'],
    [{ listening: true } as const, '{"listening":true}\n'],
    [{ exit: 0 }, '{"exit":0}\n'],
    [{ exit: 1 }, '{"exit":1}\n'],
  ])('%j is one line', (message, expected) => {
    expect(frameHostMessage(message)).toBe(expected);
  });
});

describe('a first line longer than MAX_STUB_LINE_BYTES', () => {
  it('is refused by the reader the connection uses, and a line at the limit is not', () => {
    const lines: string[] = [];
    const reader = new LineReader((l) => lines.push(l), MAX_STUB_LINE_BYTES);
    const big = line({ ...HELLO, env: { BIG: 'x'.repeat(MAX_STUB_LINE_BYTES) } });
    expect(reader.push(Buffer.from(`${big}\n`))).toBe(false);
    expect(lines).toEqual([]);
    const fits = line({ ...HELLO, env: { BIG: 'x'.repeat(MAX_STUB_LINE_BYTES - 400) } });
    expect(Buffer.byteLength(fits)).toBeLessThanOrEqual(MAX_STUB_LINE_BYTES);
    expect(reader.push(Buffer.from(`${fits}\n`))).toBe(true);
    expect(lines.map((l) => parseHello(l).ok)).toEqual([true]);
  });
});
