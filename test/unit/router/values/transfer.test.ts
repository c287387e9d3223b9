/**
 * ValueTransfer over real JupyterClients to scripted kernels that run what they are sent: the
 * "javascript" one in this Node (with tslab's `__tslab__.exports`), the "lua" one in Lua 5.4
 * (the llmspell double's session). What the router asks of each kernel, and what it says back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { JupyterClient } from '../../../../src/wire/client.js';
import { ValueTransfer, type ValuesSlot } from '../../../../src/router/values/transfer.js';
import { createLuaSession } from '../../../fixtures/llmspell-double-lua.mjs';
import { ScriptedKernel, type PeerRequest } from '../../../helpers/scripted-kernel.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  delete (globalThis as { __tslab__?: unknown }).__tslab__;
});

type Run = (code: string) => { stdout: string; ok: boolean; stderr?: string };

/** A kernel that answers kernel_info with `language` and runs each execute with `run`. */
async function kernel(runtime: string, language: string, run: Run, options: { abortFirst?: boolean } = {}) {
  const peer = await ScriptedKernel.start('ipc');
  cleanup.push(() => peer.close());
  const client = new JupyterClient({ connection: peer.info });
  cleanup.push(() => client.close());
  await peer.subscribed();
  const executes: Record<string, unknown>[] = [];
  let abort = options.abortFirst ?? false;
  const serve = async (): Promise<void> => {
    for (;;) {
      const request: PeerRequest = await peer.nextRequest().catch(() => undefined as never);
      if (request === undefined) return;
      const parentHeader = request.msg.header;
      if (request.msg.msgType === 'kernel_info_request') {
        await peer.reply(request, 'kernel_info_reply', { status: 'ok', language_info: { name: language } });
        continue;
      }
      const content = request.msg.content<{ code: string }>();
      executes.push(content);
      await peer.publish('status', { execution_state: 'busy' }, { parentHeader });
      if (abort) {
        abort = false;
        await peer.reply(request, 'execute_reply', { status: 'aborted' });
      } else {
        const result = run(content.code);
        if (result.stderr) await peer.publish('stream', { name: 'stderr', text: result.stderr }, { parentHeader });
        if (result.stdout) await peer.publish('stream', { name: 'stdout', text: result.stdout }, { parentHeader });
        if (!result.ok) await peer.publish('error', { ename: 'Boom', evalue: 'it broke', traceback: [] }, { parentHeader });
        await peer.reply(request, 'execute_reply', { status: result.ok ? 'ok' : 'error', execution_count: 1 });
      }
      await peer.publish('status', { execution_state: 'idle' }, { parentHeader });
    }
  };
  // The kernel is closed at the end of each test, possibly mid-answer: that ends its loop.
  void serve().catch((error: unknown) => {
    if ((error as { code?: string }).code !== 'EBADF') throw error;
  });
  const slot: ValuesSlot = { requirement: { runtime, provider: 'openai' }, state: 'ready', failure: undefined, settled: Promise.resolve(), link: { client } };
  return { slot, executes };
}

function javascriptKernel(scope: Record<string, unknown>, options: { abortFirst?: boolean } = {}) {
  (globalThis as { __tslab__?: unknown }).__tslab__ = { exports: scope };
  return kernel('javascript', 'javascript', (code) => {
    const printed: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => void printed.push(args.join(' ') + '\n');
    try {
      (0, eval)(code);
    } finally {
      console.log = log;
    }
    return { stdout: printed.join(''), ok: true };
  }, options);
}

async function luaKernel() {
  let stdout = '';
  const lua = await createLuaSession({ onOutput: (_cell, text) => void (stdout += text) });
  const run: Run = (code) => {
    stdout = '';
    const result = lua.run(code);
    return { stdout, ok: result.ok };
  };
  return { ...(await kernel('lua', 'lua', run)), run };
}

describe('ValueTransfer', () => {
  it('get: exports on the source (silent), imports on the target (store_history off: the adapter withholds silent output), names both in its line', async () => {
    const js = await javascriptKernel({ v: { list: [1, 'two'], n: null } });
    const lua = await luaKernel();
    const transfer = new ValueTransfer({ current: () => lua.slot, peer: () => js.slot });
    await expect(transfer.run({ kind: 'get', names: ['v'], runtime: 'javascript' })).resolves.toBe('copied v from javascript/openai\n');
    expect(lua.run('print(v.list[2], v.n == nil)').stdout).toBe('two\ttrue\n');
    expect(js.executes).toEqual([expect.objectContaining({ silent: true, store_history: false, stop_on_error: false })]);
    expect(lua.executes).toEqual([expect.objectContaining({ silent: false, store_history: false, stop_on_error: false })]);
  });

  it('put: from the current backend to the other; a snippet the kernel aborted is run once more', async () => {
    const js = await javascriptKernel({}, { abortFirst: true });
    const lua = await luaKernel();
    lua.run('t = {x = 1.5}');
    const transfer = new ValueTransfer({ current: () => lua.slot, peer: () => js.slot });
    await expect(transfer.run({ kind: 'put', names: ['t'], runtime: 'javascript' })).resolves.toBe('copied t to javascript/openai\n');
    expect(js.executes).toHaveLength(2);
    expect(js.executes[1]!.code).toBe(js.executes[0]!.code);
    expect(js.executes[1]!.code).toContain('let t = Object({"x": 1.5});');
  });

  it('shows what a backend said on stderr meanwhile (the adapter\'s first-cell notice) after its line', async () => {
    const js = await javascriptKernel({ v: 1 });
    const lua = await luaKernel();
    const noisy = await kernel('lua', 'lua', (code) => ({ ...lua.run(code), stderr: 'llmspell-fleet: no API key for openai\n' }));
    const transfer = new ValueTransfer({ current: () => noisy.slot, peer: () => js.slot });
    await expect(transfer.run({ kind: 'get', names: ['v'], runtime: 'javascript' })).resolves.toBe('copied v from javascript/openai\nlua/openai: llmspell-fleet: no API key for openai\n');
  });

  it.each<[string, (lua: Awaited<ReturnType<typeof luaKernel>>) => Promise<ValuesSlot>, string[], RegExp]>([
    ['a value that is not there', async () => (await javascriptKernel({})).slot, ['nope'], /^cannot copy from javascript\/openai: nope is not defined$/],
    ['a name the target cannot have', async () => (await javascriptKernel({ end: 1 })).slot, ['end'], /"end" is a reserved word in Lua/],
    ['a value the target cannot hold', async () => (await javascriptKernel({ v: [1, null] })).slot, ['v'], /cannot copy into lua\/openai \(lua\): v\[2\] is null/],
    ['a language without a converter', async () => (await kernel('r', 'R', () => ({ stdout: '', ok: true }))).slot, ['v'], /r\/openai runs R, and values cross only between python, javascript, lua/],
    ['a backend that could not start', async () => ({ requirement: { runtime: 'python', provider: 'openai' }, state: 'failed', failure: 'no ipykernel', settled: Promise.resolve(), link: undefined }), ['v'], /python\/openai is not available: no ipykernel/],
    ['the session\'s own backend', async (lua) => lua.slot, ['v'], /lua\/openai is this session's own backend/],
    ['a snippet that fails', async () => (await kernel('javascript', 'javascript', () => ({ stdout: '', ok: false }))).slot, ['v'], /the export on javascript\/openai failed: Boom: it broke/],
  ])('refuses %s', async (_name, source, names, message) => {
    const lua = await luaKernel();
    const from = await source(lua);
    const transfer = new ValueTransfer({ current: () => lua.slot, peer: () => from });
    await expect(transfer.run({ kind: 'get', names, runtime: from.requirement.runtime })).rejects.toThrow(message);
    // Nothing reached the target: the import runs only when every value can cross.
    if (from !== lua.slot) expect(lua.executes).toEqual([]);
  });
});
