import { describe, expect, it } from 'vitest';
import { adapterKernelInfo, interruptNotice } from '../../../../src/adapters/llmspell/policy.js';

/** kernel_info_reply content exactly as llmspell 0.14.1 sent it (inprocess-client-identity trace). */
const LLMSPELL_KERNEL_INFO = {
  protocol_version: '5.3',
  implementation: 'llmspell',
  implementation_version: '0.14.1',
  language_info: { name: 'lua', version: '5.4', file_extension: '.lua' },
  banner: 'LLMSpell Kernel v0.14.1 (lua)',
};

describe('interruptNotice', () => {
  it('notice: the cell keeps running, and how to stop it', () => {
    const text = interruptNotice('notice', 10_000);
    expect(text).toContain('llmspell cannot stop a running cell');
    expect(text).toContain('keeps running');
    expect(text).toContain('restart the kernel');
    expect(text).toContain('interrupt = "restart"');
    expect(text).toContain('fleet.toml');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('notice does not depend on the grace period', () => {
    expect(interruptNotice('notice', 1_000)).toBe(interruptNotice('notice', 60_000));
  });

  it.each([
    [10_000, 'in 10 s,'],
    [2_500, 'in 2.5 s,'],
    [1_250, 'in 1.3 s,'],
    [0, 'in 0 s,'],
  ])('restart after %d ms: says when, and that variables are lost', (graceMs, when) => {
    const text = interruptNotice('restart', graceMs);
    expect(text).toContain('llmspell cannot stop a running cell');
    expect(text).toContain(when);
    expect(text).toContain('will be restarted');
    expect(text).toContain('variables from earlier cells will be lost');
    expect(text.endsWith('\n')).toBe(true);
  });
});

describe('adapterKernelInfo', () => {
  const info = adapterKernelInfo(LLMSPELL_KERNEL_INFO);

  it('keeps what llmspell says about itself', () => {
    expect(info).toMatchObject({ protocol_version: '5.3', implementation: 'llmspell', implementation_version: '0.14.1', status: 'ok' });
    expect(info.language_info).toMatchObject(LLMSPELL_KERNEL_INFO.language_info);
    expect(String(info.banner).startsWith('LLMSpell Kernel v0.14.1 (lua)\n')).toBe(true);
    expect(String(info.banner)).toContain('llmspell-fleet adapter');
  });

  it('adds what front ends need to highlight and save Lua', () => {
    expect(info.language_info).toEqual({
      name: 'lua',
      version: '5.4',
      mimetype: 'text/x-lua',
      file_extension: '.lua',
      pygments_lexer: 'lua',
      codemirror_mode: 'lua',
    });
    expect(info).toMatchObject({ help_links: [], debugger: false });
  });

  it('a field llmspell sets wins over the default', () => {
    const custom = adapterKernelInfo({ ...LLMSPELL_KERNEL_INFO, language_info: { name: 'lua', version: '5.4.6', codemirror_mode: { name: 'lua' } } });
    expect(custom.language_info).toMatchObject({ version: '5.4.6', codemirror_mode: { name: 'lua' }, mimetype: 'text/x-lua' });
  });

  it.each<[string, Record<string, unknown>]>([
    ['llmspell said nothing', {}],
    ['language_info is not an object', { language_info: 'lua' }],
    ['language_info is null', { language_info: null }],
  ])('a complete reply when %s', (_name, llmspell) => {
    const reply = adapterKernelInfo(llmspell);
    expect(reply).toMatchObject({ protocol_version: '5.3', implementation: 'llmspell', implementation_version: '', status: 'ok' });
    expect(reply.language_info).toMatchObject({ name: 'lua', version: '5.4', file_extension: '.lua', mimetype: 'text/x-lua' });
    expect(String(reply.banner).startsWith('LLMSpell\n')).toBe(true);
  });
});
