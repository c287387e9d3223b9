/**
 * FleetMagics with slots and a directory made for the test (both are the router's own
 * interfaces): the message sequence a kernel would send, and what use/status/list say.
 */
import { describe, expect, it } from 'vitest';
import { FleetMagics, type MagicsSlot } from '../../../src/router/magics.js';
import type { StickyChoice } from '../../../src/router/resolver.js';
import type { FleetEntry } from '../../../src/shared/backend.js';
import type { BackendCondition } from '../../../src/shared/backend-state.js';
import type { BackendDirectory } from '../../../src/router/types.js';
import { createMessage, type WireMessage } from '../../../src/wire/codec.js';

function readySlot(runtime: string, provider: string, kernelId: string, pid: number, heartbeat = { responsive: true, lastReplyAt: Date.now() }, condition: BackendCondition = 'ready'): MagicsSlot {
  return { requirement: { runtime, provider }, state: 'ready', failure: undefined, settled: Promise.resolve(), lease: { kernelId, pid }, link: { heartbeat }, condition };
}
function failedSlot(runtime: string, provider: string, failure: string): MagicsSlot {
  return { requirement: { runtime, provider }, state: 'failed', failure, settled: Promise.resolve(), lease: undefined, link: undefined, condition: 'dead' };
}

interface Harness {
  magics: FleetMagics;
  /** Everything sent, in order: `iopub:<type>` or `reply:<type>`, with content. */
  out: { to: string; content: Record<string, unknown> }[];
  stickies: (StickyChoice | undefined)[];
  /** Resolves when the cell's idle status is out (the end of a magic's answer). */
  idle: Promise<void>;
}

function harness(options: {
  current?: MagicsSlot;
  slots?: MagicsSlot[];
  list?: () => Promise<FleetEntry[]>;
  slotFor?: (choice: StickyChoice | undefined) => MagicsSlot;
  known?: { runtimes: string[]; providers: string[] };
  lastReplay?: string;
  earlierCells?: () => Promise<void>;
}): Harness {
  const out: Harness['out'] = [];
  const stickies: Harness['stickies'] = [];
  let onIdle!: () => void;
  const idle = new Promise<void>((r) => (onIdle = r));
  let count = 0;
  const current = options.current ?? readySlot('lua', 'openai', 'k1', 101);
  const directory: BackendDirectory = {
    acquire: () => Promise.reject(new Error('not used')),
    ...(options.list ? { list: options.list } : {}),
  };
  const magics = new FleetMagics({
    directory,
    current: () => current,
    slots: () => options.slots ?? [current],
    setSticky: async (choice) => {
      stickies.push(choice);
      return options.slotFor?.(choice) ?? current;
    },
    ...(options.known ? { known: () => options.known! } : {}),
    ...(options.earlierCells ? { earlierCells: options.earlierCells } : {}),
    nextExecutionCount: () => ++count,
    lastReplay: () => options.lastReplay,
    reply: (_channel, _request, msgType, content) => out.push({ to: `reply:${msgType}`, content: content as Record<string, unknown> }),
    broadcast: (msgType, content) => {
      out.push({ to: `iopub:${msgType}`, content: content as Record<string, unknown> });
      if (msgType === 'status' && (content as { execution_state?: string }).execution_state === 'idle') onIdle();
    },
  });
  return { magics, out, stickies, idle };
}

const execute = (code: string): WireMessage => createMessage({ msgType: 'execute_request', content: { code }, session: 'c', identities: [Buffer.from('client')] });
const stdout = (h: Harness) => String(h.out.find((o) => o.to === 'iopub:stream')?.content.text);

describe('FleetMagics.handle', () => {
  it('leaves code that is not a fleet magic to the backend', () => {
    const h = harness({});
    expect(h.magics.handle('shell', execute('print(1)'), 'print(1)')).toBe(false);
    expect(h.out).toEqual([]);
  });

  it('answers as a kernel would: busy, execute_input, output, execute_reply, idle', async () => {
    const h = harness({});
    expect(h.magics.handle('shell', execute('%llmspell help'), '%llmspell help')).toBe(true);
    await h.idle;
    expect(h.out.map((o) => o.to)).toEqual(['iopub:status', 'iopub:execute_input', 'iopub:stream', 'reply:execute_reply', 'iopub:status']);
    expect(h.out[1]!.content).toEqual({ code: '%llmspell help', execution_count: 1 });
    expect(h.out[3]!.content).toEqual({ status: 'ok', execution_count: 1, user_expressions: {}, payload: [] });
    expect(stdout(h)).toContain('%llmspell use RUNTIME [PROVIDER]');
  });

  it('answers a malformed magic with an error on iopub and in the reply', async () => {
    const h = harness({});
    h.magics.handle('shell', execute('%llmspell frobnicate'), '%llmspell frobnicate');
    await h.idle;
    expect(h.out.map((o) => o.to)).toEqual(['iopub:status', 'iopub:execute_input', 'iopub:error', 'reply:execute_reply', 'iopub:status']);
    expect(h.out[3]!.content).toMatchObject({ status: 'error', ename: 'FleetError', execution_count: 1 });
    expect(String(h.out[3]!.content.evalue)).toContain('unknown command "%llmspell frobnicate"');
  });

  it('use: sets the sticky choice and names the backend now serving the session', async () => {
    const python = readySlot('python', 'anthropic', 'k2', 202);
    const h = harness({ slotFor: (c) => (c?.runtime === 'python' ? python : readySlot('lua', 'openai', 'k1', 101)) });
    h.magics.handle('shell', execute('%llmspell use python anthropic'), '%llmspell use python anthropic');
    await h.idle;
    expect(h.stickies).toEqual([{ runtime: 'python', provider: 'anthropic' }]);
    expect(stdout(h)).toBe('Using python/anthropic: backend k2, pid 202 for this session (cells without a %%llmspell directive or llmspell metadata).\n');
  });

  it('use: puts the previous choice back when the new backend cannot start, and says why', async () => {
    const h = harness({ slotFor: (c) => (c?.runtime === 'ruby' ? failedSlot('ruby', 'openai', 'no such runtime') : readySlot('lua', 'openai', 'k1', 101)) });
    h.magics.handle('shell', execute('%llmspell use ruby'), '%llmspell use ruby');
    await h.idle;
    expect(h.stickies).toEqual([{ runtime: 'ruby' }, undefined]);
    expect(h.out.find((o) => o.to === 'reply:execute_reply')!.content).toMatchObject({ status: 'error', evalue: 'cannot use ruby/openai: no such runtime' });
  });

  it('status: marks this session\'s backend, says who shares it and which heartbeat is silent', async () => {
    const current = readySlot('lua', 'openai', 'k1', 101);
    const silent = readySlot('python', 'none', 'k2', 202, { responsive: false, lastReplyAt: Date.now() - 5000 });
    const h = harness({
      current,
      slots: [current, silent, failedSlot('ruby', 'x', 'spawn failed')],
      list: async () => [{ kernelId: 'k1', pid: 101, runtime: 'lua', provider: 'openai', state: 'ready', clients: 2 }],
    });
    h.magics.handle('shell', execute('%llmspell status'), '%llmspell status');
    await h.idle;
    const lines = stdout(h).split('\n');
    expect(lines[0]).toBe('This session: lua/openai');
    expect(lines[1]).toBe('  * lua/openai: ready, backend k1, pid 101, shared by 2 clients');
    expect(lines[2]).toMatch(/^ {4}python\/none: ready, backend k2, pid 202, heartbeat silent for \d+\.\d s$/);
    expect(lines[3]).toBe('    ruby/x: dead (spawn failed)');
  });

  it.each<[BackendCondition, string]>([
    ['busy', 'javascript/openai: busy, backend k3, pid 303'],
    ['starting', 'javascript/openai: starting, backend k3, pid 303'],
    ['restarting', 'javascript/openai: restarting, backend k3, pid 303'],
    ['dead', 'javascript/openai: dead'],
  ])('status: a backend that is %s says so', async (condition, line) => {
    const current = readySlot('lua', 'openai', 'k1', 101);
    const other = readySlot('javascript', 'openai', 'k3', 303, undefined, condition);
    const h = harness({ current, slots: [current, other] });
    h.magics.handle('shell', execute('%llmspell status'), '%llmspell status');
    await h.idle;
    expect(stdout(h).split('\n')[2]).toBe(`    ${line}`);
  });

  it.each(['status', 'list'])('%s: answers only after the cells sent before it have ended (Run All sends them all at once)', async (word) => {
    let endEarlier!: () => void;
    const earlier = new Promise<void>((resolve) => (endEarlier = resolve));
    const h = harness({ earlierCells: () => earlier });
    let answered = false;
    void h.idle.then(() => (answered = true));
    h.magics.handle('shell', execute(`%llmspell ${word}`), `%llmspell ${word}`);
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    expect(h.out.some((o) => o.to === 'iopub:stream')).toBe(false);
    endEarlier();
    await h.idle;
    expect(h.out.some((o) => o.to === 'iopub:stream')).toBe(true);
  });

  it('list: a table of the whole fleet, or this router\'s slots when there is no fleet', async () => {
    const h = harness({ list: async () => [{ kernelId: 'k1', pid: 101, runtime: 'lua', provider: 'openai', state: 'ready', clients: 1 }] });
    h.magics.handle('shell', execute('%llmspell list'), '%llmspell list');
    await h.idle;
    expect(stdout(h)).toBe('ID  PID  RUNTIME  PROVIDER  STATE  CLIENTS\nk1  101  lua      openai    ready  1\n');

    const local = harness({ list: () => Promise.reject(new Error('manager gone')) });
    local.magics.handle('shell', execute('%llmspell list'), '%llmspell list');
    await local.idle;
    expect(stdout(local)).toBe('lua/openai: ready, backend k1, pid 101\n');
  });
});

describe('FleetMagics.handle: replay', () => {
  it.each<[string, string | undefined, RegExp]>([
    ['shows what this router last replayed', '── output while no client was attached (cell started 10:00:00) ──\nafter 1\n', /^── output while no client was attached \(cell started 10:00:00\) ──\nafter 1\n$/],
    ['says when nothing was replayed, and when output is kept', undefined, /^Nothing was replayed in this session.*\n.*fleet\.toml \[replay\]/],
  ])('%s', async (_name, lastReplay, shown) => {
    const h = harness({ lastReplay });
    h.magics.handle('shell', execute('%llmspell replay'), '%llmspell replay');
    await h.idle;
    expect(h.out.map((o) => o.to)).toEqual(['iopub:status', 'iopub:execute_input', 'iopub:stream', 'reply:execute_reply', 'iopub:status']);
    expect(stdout(h)).toMatch(shown);
  });
});

describe('FleetMagics.complete', () => {
  const complete = (code: string, cursor: number) => createMessage({ msgType: 'complete_request', content: { code, cursor_pos: cursor }, session: 'c' });

  it.each([
    ['%llmspell u', 11, true, { matches: ['use'], cursor_start: 10, cursor_end: 11 }],
    ['%llmspell use py', 16, true, { matches: ['python'], cursor_start: 14, cursor_end: 16 }],
    ['print(1)', 8, false, undefined],
  ])('%j at %i -> answered %s', (code, cursor, answered, content) => {
    const h = harness({ known: { runtimes: ['lua', 'python'], providers: ['openai'] } });
    expect(h.magics.complete('shell', complete(code, cursor))).toBe(answered);
    if (content) expect(h.out).toEqual([{ to: 'reply:complete_reply', content: { status: 'ok', ...content, metadata: {} } }]);
    else expect(h.out).toEqual([]);
  });
});
