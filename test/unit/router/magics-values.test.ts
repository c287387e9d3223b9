/** FleetMagics hands get/put to its `values` option and answers like any magic. */
import { describe, expect, it } from 'vitest';
import { FleetMagics, type MagicsSlot } from '../../../src/router/magics.js';
import type { ValuesMagic } from '../../../src/router/requirement/values-magic.js';
import { createMessage } from '../../../src/wire/codec.js';

const slot: MagicsSlot = { requirement: { runtime: 'lua', provider: 'openai' }, state: 'ready', condition: 'ready', failure: undefined, settled: Promise.resolve(), lease: undefined, link: undefined };

function magics(run?: (magic: ValuesMagic) => Promise<string>) {
  const out: string[] = [];
  const seen: ValuesMagic[] = [];
  const m = new FleetMagics({
    directory: { acquire: () => Promise.reject(new Error('not used')) },
    current: () => slot,
    slots: () => [slot],
    setSticky: async () => slot,
    nextExecutionCount: () => 7,
    ...(run ? { values: { run: (magic: ValuesMagic) => (seen.push(magic), run(magic)) } } : {}),
    reply: (_c, _r, msgType, content) => out.push(`reply:${msgType}:${(content as { status: string }).status}`),
    broadcast: (msgType, content) => {
      const c = content as Record<string, unknown>;
      out.push(`${msgType}:${String(c.text ?? c.evalue ?? c.execution_state ?? '')}`);
    },
  });
  return { m, out, seen };
}

const request = (code: string) => createMessage({ msgType: 'execute_request', content: { code }, session: 's', identities: [Buffer.from('c')] });

describe('FleetMagics: get and put', () => {
  it('runs the copy and returns its promise, so the dispatcher holds the cells after it', async () => {
    const { m, out, seen } = magics(async () => 'copied x from python/openai\n');
    const handled = m.handle('shell', request('%llmspell get x --from python'), '%llmspell get x --from python');
    expect(handled).toBeInstanceOf(Promise);
    await handled;
    expect(seen).toEqual([{ kind: 'get', names: ['x'], runtime: 'python' }]);
    expect(out).toEqual(['status:busy', 'execute_input:', 'stream:copied x from python/openai\n', 'reply:execute_reply:ok', 'status:idle']);
  });

  it('answers a failed copy with an error naming why', async () => {
    const { m, out } = magics(async () => {
      throw new Error('cannot copy from python/openai: x is not defined');
    });
    await m.handle('shell', request('%llmspell put x --to python'), '%llmspell put x --to python');
    expect(out).toEqual(['status:busy', 'execute_input:', 'error:cannot copy from python/openai: x is not defined', 'reply:execute_reply:error', 'status:idle']);
  });

  it('other magics answer at once (true), without holding anything', () => {
    expect(magics().m.handle('shell', request('%llmspell help'), '%llmspell help')).toBe(true);
  });
});
