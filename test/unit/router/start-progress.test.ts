import { describe, expect, it } from 'vitest';
import { StartProgress, startedText, startFailedText, startingText, type StartingSlot } from '../../../src/router/start-progress.js';
import { createMessage } from '../../../src/wire/codec.js';

describe('start progress texts', () => {
  it.each([
    [startingText('javascript/openai'), 'starting javascript/openai backend…'],
    [startedText('javascript/openai', 2140), 'javascript/openai backend started in 2.1 s'],
    [startedText('lua/openai#team', 40), 'lua/openai#team backend started in 0.0 s'],
    [startFailedText('lua/openai', 'llmspell not found\nits last output: …'), 'lua/openai backend could not start: llmspell not found'],
  ])('%s', (actual, expected) => {
    expect(actual).toBe(expected);
  });
});

function slot(): StartingSlot & { ready(): void; fail(reason: string): void } {
  let settle!: () => void;
  const s = {
    key: 'python/openai',
    state: 'starting',
    failure: undefined as string | undefined,
    startedAt: 1000,
    settled: new Promise<void>((resolve) => (settle = resolve)),
    ready: () => {
      s.state = 'ready';
      settle();
    },
    fail: (reason: string) => {
      s.state = 'failed';
      s.failure = reason;
      settle();
    },
  };
  return s;
}

const cell = (code: string) => createMessage({ msgType: 'execute_request', content: { code }, session: 'c' });

describe('StartProgress', () => {
  function harness() {
    const out: { msgType: string; content: { data: Record<string, string>; transient: { display_id: string } }; parent: { msg_id?: string } }[] = [];
    const progress = new StartProgress({ broadcast: (msgType, content, parent) => out.push({ msgType, content: content as never, parent }), now: () => 3500 });
    return { out, progress };
  }

  it('each waiting cell gets its display, updated with the time it took once the backend is ready', async () => {
    const { out, progress } = harness();
    const s = slot();
    const [c1, c2] = [cell('a'), cell('b')];
    progress.waiting(s, c1);
    progress.waiting(s, c2);
    expect(out.map((o) => [o.msgType, o.parent.msg_id, o.content.data['text/plain']])).toEqual([
      ['display_data', c1.msgId, 'starting python/openai backend…'],
      ['display_data', c2.msgId, 'starting python/openai backend…'],
    ]);
    s.ready();
    await s.settled;
    await Promise.resolve();
    expect(out.slice(2).map((o) => [o.msgType, o.parent.msg_id, o.content.data['text/plain']])).toEqual([
      ['update_display_data', c1.msgId, 'python/openai backend started in 2.5 s'],
      ['update_display_data', c2.msgId, 'python/openai backend started in 2.5 s'],
    ]);
    // Each update names its own display.
    expect(out[2]!.content.transient.display_id).toBe(out[0]!.content.transient.display_id);
    expect(out[3]!.content.transient.display_id).toBe(out[1]!.content.transient.display_id);
    expect(out[0]!.content.transient.display_id).not.toBe(out[1]!.content.transient.display_id);
  });

  it('a failure replaces the display with the reason, once, even when settled is called again', async () => {
    const { out, progress } = harness();
    const s = slot();
    progress.waiting(s, cell('c1'));
    s.fail('no such runtime');
    progress.settled(s);
    await s.settled;
    await Promise.resolve();
    expect(out.map((o) => [o.msgType, o.content.data['text/plain']])).toEqual([
      ['display_data', 'starting python/openai backend…'],
      ['update_display_data', 'python/openai backend could not start: no such runtime'],
    ]);
  });
});
