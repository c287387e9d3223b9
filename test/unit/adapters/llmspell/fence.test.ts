import { describe, expect, it } from 'vitest';
import type { LlmspellEvent } from '../../../../src/adapters/llmspell/dialect.js';
import { Fence, stripMarkers } from '../../../../src/adapters/llmspell/fence.js';

const M = '@@llmspell-fleet-fence:abc123@@';
const busy: LlmspellEvent = { msgType: 'status', content: { execution_state: 'busy' } };
const idle: LlmspellEvent = { msgType: 'status', content: { execution_state: 'idle' } };
const out = (text: string): LlmspellEvent => ({ msgType: 'stream', content: { name: 'stdout', text } });
const result = (text: string): LlmspellEvent => ({ msgType: 'execute_result', content: { data: { 'text/plain': text } } });

/** What the cell sees, as short names, and whether the fence said it was over after the last event. */
function run(events: LlmspellEvent[]): { seen: string[]; over: boolean } {
  const fence = new Fence(M);
  const seen: string[] = [];
  let over = false;
  for (const e of events) {
    const r = fence.accept(e);
    for (const f of r.forward) seen.push(f.msgType === 'status' ? String(f.content.execution_state) : f.msgType === 'stream' ? `out:${String(f.content.text)}` : `result:${String((f.content.data as Record<string, unknown>)['text/plain'])}`);
    over = r.over;
  }
  return { seen, over };
}

describe('Fence', () => {
  it.each([
    ['in order: the cell as llmspell sent it, the fence unseen',
      [busy, out('a\n'), result('1'), idle, busy, out(`${M}\n`), result('null'), idle],
      ['busy', 'out:a\n', 'result:1', 'idle'], true],
    ['the cell\'s print after its idle (real llmspell, now and then): delivered before the idle',
      [busy, result('1'), idle, out('a\n'), busy, out(`${M}\n`), result('null'), idle],
      ['busy', 'result:1', 'out:a\n', 'idle'], true],
    ['late print and marker in one message: split',
      [busy, idle, busy, result('null'), out(`a\n${M}\n`), idle],
      ['busy', 'out:a\n', 'idle'], true],
    ['everything late (the double\'s LATE_STREAM mode): waits for the marker after the fence\'s idle',
      [busy, result('1'), idle, out('a\n'), busy, result('null'), idle, out(`${M}\n`)],
      ['busy', 'result:1', 'out:a\n', 'idle'], true],
    ['not over until both the fence\'s idle and the marker',
      [busy, idle, busy, out(`${M}\n`)],
      ['busy', 'idle'], false],
    ['the fence\'s own result and status never reach the cell',
      [busy, idle, busy, result('null'), out(`${M}\n`), idle],
      ['busy', 'idle'], true],
  ])('%s', (_name, events, seen, over) => {
    expect(run(events)).toEqual({ seen, over });
  });

  it('gives up on a marker that never comes: the held idle, then nothing more', () => {
    const fence = new Fence(M);
    for (const e of [busy, out('a\n'), idle, busy, idle]) fence.accept(e);
    expect(fence.waitingForMarker).toBe(true);
    expect(fence.giveUp()).toEqual([idle]);
    expect(fence.giveUp()).toEqual([]);
  });
});

describe('stripMarkers', () => {
  it.each([
    ['a stale marker line goes', `x\n@@llmspell-fleet-fence:0f0f@@\ny\n`, undefined, 'x\ny\n'],
    ['the current one stays', `${M}\n`, M, `${M}\n`],
    ['user text that merely looks alike stays', '@@llmspell-fleet-fence:XYZ@@\n', undefined, '@@llmspell-fleet-fence:XYZ@@\n'],
  ])('%s', (_name, text, keep, want) => {
    expect(stripMarkers(text, '@@llmspell-fleet-fence:', keep)).toBe(want);
  });
});
