import { describe, expect, it } from 'vitest';
import { CellTranslator, type CellOutput, type ExecuteReplyContent } from '../../../../src/adapters/llmspell/cell.js';
import type { LlmspellEvent } from '../../../../src/adapters/llmspell/dialect.js';
import { executions, TRACE_FILES } from './traces.js';

/** Our count: far from llmspell's own 1..7, so a leaked llmspell count shows. */
const COUNT = 41;

interface Driven {
  outputs: CellOutput[];
  reply: ExecuteReplyContent;
  /** Index of the event after which accept() said done, or -1. */
  doneAt: number;
}

/** Feeds events as the adapter does: publish what accept() returns, finish() once done. */
function drive(events: readonly LlmspellEvent[], options: { executionCount: number; lineOffset?: number } = { executionCount: COUNT }): Driven {
  const cell = new CellTranslator(options);
  const outputs: CellOutput[] = [];
  let doneAt = -1;
  for (const [i, event] of events.entries()) {
    const accepted = cell.accept(event);
    outputs.push(...accepted.outputs);
    if (accepted.done) {
      doneAt = i;
      break;
    }
  }
  const finished = cell.finish();
  return { outputs: [...outputs, ...finished.outputs], reply: finished.reply, doneAt };
}

const status = (execution_state: string): LlmspellEvent => ({ msgType: 'status', content: { execution_state } });
const BUSY = status('busy');
const IDLE = status('idle');
const stdout = (text: string): LlmspellEvent => ({ msgType: 'stream', content: { name: 'stdout', text } });
const result = (text: string, execution_count = 9): LlmspellEvent => ({ msgType: 'execute_result', content: { data: { 'text/plain': text }, metadata: {}, execution_count } });
const display = (text: string): LlmspellEvent => ({ msgType: 'display_data', content: { data: { 'text/plain': text }, metadata: {} } });
const ok: ExecuteReplyContent = { status: 'ok', execution_count: COUNT, user_expressions: {}, payload: [] };

const ENGINE = 'Error: Script execution failed: Component error: lua engine execution error: ';
const CHUNK = '[string "llmspell-bridge/src/lua/engine.rs:267:65"]';
const BOOM_TRACEBACK = ['LuaRuntimeError: line 1: boom', 'stack traceback:', '\t[C]: in ?', "\t[C]: in function 'error'", '\tcell:1: in main chunk'];

function errorOutcome(ename: string, evalue: string, traceback: string[]): Pick<Driven, 'outputs' | 'reply'> {
  return {
    outputs: [{ msgType: 'error', content: { ename, evalue, traceback } }],
    reply: { status: 'error', execution_count: COUNT, ename, evalue, traceback, user_expressions: {} },
  };
}

/** What a Jupyter client must see for each execute the traces recorded. */
const EXPECTED: Record<string, Pick<Driven, 'outputs' | 'reply'>> = {
  "print('hello from lua')": { outputs: [{ msgType: 'stream', content: { name: 'stdout', text: 'hello from lua\n' } }], reply: ok },
  'return 1 + 1': { outputs: [{ msgType: 'execute_result', content: { data: { 'text/plain': '2' }, metadata: {}, execution_count: COUNT } }], reply: ok },
  'x = 41\nx + 1': errorOutcome('LuaSyntaxError', "line 2: syntax error near '+'", ["LuaSyntaxError: line 2: syntax error near '+'"]),
  "error('boom')": errorOutcome('LuaRuntimeError', 'line 1: boom', BOOM_TRACEBACK),
  'this is not lua': errorOutcome('LuaSyntaxError', "line 1: syntax error near 'is'", ["LuaSyntaxError: line 1: syntax error near 'is'"]),
  // In the inprocess trace llmspell sent its null execute_result BEFORE the cell's stream.
  "print('unsigned ran')": { outputs: [{ msgType: 'stream', content: { name: 'stdout', text: 'unsigned ran\n' } }], reply: ok },
  "local t = os.clock() while os.clock() - t < 4 do end print('long done')": { outputs: [{ msgType: 'stream', content: { name: 'stdout', text: 'long done\n' } }], reply: ok },
};

describe('CellTranslator on the executes llmspell recorded', () => {
  const cases = TRACE_FILES.flatMap((file) =>
    executions(file)
      .filter((e) => e.events.length > 0)
      .map((e) => [`${file}: ${JSON.stringify(e.code)}`, e] as const),
  );

  it('both traces hold the seven executes that produced output', () => {
    expect(cases.map(([, e]) => e.code)).toEqual([...Object.keys(EXPECTED), ...Object.keys(EXPECTED)]);
  });

  it.each(cases)('%s', (_name, execution) => {
    const driven = drive(execution.events);
    // Done exactly at llmspell's idle, the last message of the execution.
    expect(driven.doneAt).toBe(execution.events.length - 1);
    expect({ outputs: driven.outputs, reply: driven.reply }).toEqual(EXPECTED[execution.code]);
  });

  it('the cell llmspell never finished (SIGINT killed it) ends with fail()', () => {
    const last = executions('client-identity.trace.jsonl').at(-1);
    expect(last?.events).toEqual([]);
    const cell = new CellTranslator({ executionCount: COUNT });
    const { outputs, reply } = cell.fail('KernelDied', 'llmspell exited during the cell');
    expect({ outputs, reply }).toEqual(errorOutcome('KernelDied', 'llmspell exited during the cell', ['KernelDied: llmspell exited during the cell']));
  });
});

describe('CellTranslator, the rest of llmspell\'s dialect', () => {
  it('a result sent before the cell\'s prints is published last, with our count', () => {
    const { outputs } = drive([BUSY, result('3', 6), stdout('a\n'), stdout('b\n'), IDLE]);
    expect(outputs.map((o) => o.msgType)).toEqual(['stream', 'stream', 'execute_result']);
    expect(outputs[2]?.content).toEqual({ data: { 'text/plain': '3' }, metadata: {}, execution_count: COUNT });
  });

  it('messages before our busy are an earlier execution\'s stragglers, and its idle does not end this cell', () => {
    const cell = new CellTranslator({ executionCount: COUNT });
    expect(cell.accept(stdout('old\n'))).toEqual({ outputs: [], done: false });
    expect(cell.accept(result('7'))).toEqual({ outputs: [], done: false });
    expect(cell.accept(IDLE)).toEqual({ outputs: [], done: false });
    expect(cell.accept(BUSY)).toEqual({ outputs: [], done: false });
    expect(cell.accept(stdout('new\n'))).toEqual({ outputs: [{ msgType: 'stream', content: { name: 'stdout', text: 'new\n' } }], done: false });
    expect(cell.accept(IDLE)).toEqual({ outputs: [], done: true });
    expect(cell.finish()).toEqual({ outputs: [], reply: ok });
  });

  it('llmspell\'s execute_input is not forwarded (the adapter publishes its own)', () => {
    const { outputs } = drive([BUSY, { msgType: 'execute_input', content: { code: 'x', execution_count: 3 } }, IDLE]);
    expect(outputs).toEqual([]);
  });

  it('a display_data that differs from the result is kept, before the result', () => {
    const { outputs } = drive([BUSY, display('a table'), result('2'), IDLE]);
    expect(outputs).toEqual([
      { msgType: 'display_data', content: { data: { 'text/plain': 'a table' }, metadata: {} } },
      { msgType: 'execute_result', content: { data: { 'text/plain': '2' }, metadata: {}, execution_count: COUNT } },
    ]);
  });

  it('a display_data with no result after it is published', () => {
    const { outputs } = drive([BUSY, display('shown'), IDLE]);
    expect(outputs).toEqual([{ msgType: 'display_data', content: { data: { 'text/plain': 'shown' }, metadata: {} } }]);
  });

  it('two displays in a row are both published, in order', () => {
    const { outputs } = drive([BUSY, display('one'), display('two'), IDLE]);
    expect(outputs.map((o) => o.content.data)).toEqual([{ 'text/plain': 'one' }, { 'text/plain': 'two' }]);
  });

  // Fails against cell.ts as written: accept() pushes the stream first and releases the held
  // display after it, so the display appears below a print that came after it.
  it('a display_data followed by a print keeps llmspell\'s order', () => {
    const { outputs } = drive([BUSY, display('first'), stdout('second\n'), IDLE]);
    expect(outputs.map((o) => o.msgType)).toEqual(['display_data', 'stream']);
  });

  it('ordinary stderr stays a stream; only llmspell\'s error text becomes an error', () => {
    const warning: LlmspellEvent = { msgType: 'stream', content: { name: 'stderr', text: 'warning: slow\n' } };
    const driven = drive([BUSY, warning, IDLE]);
    expect(driven.outputs).toEqual([{ msgType: 'stream', content: { name: 'stderr', text: 'warning: slow\n' } }]);
    expect(driven.reply.status).toBe('ok');
  });

  it('prints before a runtime error are kept, the error comes last, the error reply carries our count', () => {
    const text = `${ENGINE}runtime error: ${CHUNK}:2: boom\nstack traceback:\n\t${CHUNK}:2: in main chunk\n`;
    const driven = drive([BUSY, stdout('before\n'), { msgType: 'stream', content: { name: 'stderr', text } }, IDLE]);
    expect(driven.outputs.map((o) => o.msgType)).toEqual(['stream', 'error']);
    expect(driven.reply).toMatchObject({ status: 'error', execution_count: COUNT, ename: 'LuaRuntimeError', evalue: 'line 2: boom' });
  });

  it('lineOffset reaches the error', () => {
    const text = `${ENGINE}runtime error: ${CHUNK}:3: boom\n`;
    const driven = drive([BUSY, { msgType: 'stream', content: { name: 'stderr', text } }, IDLE], { executionCount: COUNT, lineOffset: 2 });
    expect(driven.reply).toMatchObject({ status: 'error', evalue: 'line 1: boom' });
  });

  it('the first error wins when llmspell writes two', () => {
    const first = `${ENGINE}runtime error: ${CHUNK}:1: first\n`;
    const second = `${ENGINE}runtime error: ${CHUNK}:1: second\n`;
    const driven = drive([BUSY, { msgType: 'stream', content: { name: 'stderr', text: first } }, { msgType: 'stream', content: { name: 'stderr', text: second } }, IDLE]);
    expect(driven.reply).toMatchObject({ evalue: 'line 1: first' });
    expect(driven.outputs).toHaveLength(1);
  });

  it('other message types pass through', () => {
    const clear: LlmspellEvent = { msgType: 'clear_output', content: { wait: false } };
    expect(drive([BUSY, clear, IDLE]).outputs).toEqual([{ msgType: 'clear_output', content: { wait: false } }]);
  });

  it('fail() drops the result it held and reports the failure, keeping what was already published', () => {
    const cell = new CellTranslator({ executionCount: COUNT });
    cell.accept(BUSY);
    expect(cell.accept(stdout('partial\n')).outputs).toHaveLength(1);
    cell.accept(result('5'));
    const { outputs, reply } = cell.fail('KernelRestarted', 'llmspell was restarted to stop the cell');
    expect(outputs).toEqual([{ msgType: 'error', content: { ename: 'KernelRestarted', evalue: 'llmspell was restarted to stop the cell', traceback: ['KernelRestarted: llmspell was restarted to stop the cell'] } }]);
    expect(reply).toMatchObject({ status: 'error', execution_count: COUNT, ename: 'KernelRestarted' });
  });

  it('fail() replaces an error llmspell had reported', () => {
    const cell = new CellTranslator({ executionCount: COUNT });
    cell.accept(BUSY);
    cell.accept({ msgType: 'stream', content: { name: 'stderr', text: `${ENGINE}runtime error: boom\n` } });
    expect(cell.fail('KernelDied', 'gone').reply).toMatchObject({ ename: 'KernelDied', evalue: 'gone' });
  });

  it('after finish() nothing more is published', () => {
    const cell = new CellTranslator({ executionCount: COUNT });
    cell.accept(BUSY);
    cell.accept(IDLE);
    cell.finish();
    expect(cell.accept(BUSY)).toEqual({ outputs: [], done: true });
    expect(cell.accept(stdout('late\n'))).toEqual({ outputs: [], done: true });
  });
});
