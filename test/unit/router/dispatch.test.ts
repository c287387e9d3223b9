/**
 * RequestDispatcher and Ownership without sockets: slots are plain names, the host records what
 * the dispatcher asked of it. Order across async resolution, ownership, and what the router
 * answers itself.
 */
import { describe, expect, it } from 'vitest';
import type { RequestChannel } from '../../../src/router/backend-link.js';
import { RequestDispatcher, type DispatchHost } from '../../../src/router/dispatch.js';
import { Ownership } from '../../../src/router/ownership.js';
import type { ResolvedRequest } from '../../../src/router/resolver.js';
import { silentLogger } from '../../../src/shared/log.js';
import { createMessage, WireMessage } from '../../../src/wire/codec.js';
import type { Requirement as RequirementRef } from '../../../src/shared/requirement.js';

const client = [Buffer.from('client-1')];

function request(msgType: string, content: object = {}, identities = client, metadata: object = {}): WireMessage {
  return createMessage({ msgType, content, session: 's', identities, metadata });
}

interface Call { what: string; channel?: RequestChannel; msgType?: string; slot?: string; code?: unknown; detail?: unknown }

/** A host whose slots are requirement names; `resolve` answers from `resolutions` (a function may return a promise). */
function host(options: {
  resolve?: (code: string | undefined, metadata: unknown) => ResolvedRequest | Promise<ResolvedRequest>;
  dead?: Set<string>;
  magic?: (code: string) => boolean | Promise<void>;
  running?: () => boolean;
  /** What host.usage answers: true when the router measures the backend itself. */
  usage?: boolean;
} = {}): { host: DispatchHost<string>; calls: Call[] } {
  const calls: Call[] = [];
  const h: DispatchHost<string> = {
    running: options.running ?? (() => true),
    slotFor: (r: RequirementRef) => r.runtime,
    defaultSlot: () => 'default',
    isLive: (slot) => !options.dead?.has(slot),
    resolve: options.resolve ?? (() => ({ requirement: { runtime: 'default', provider: 'p' } })),
    magic: (channel, msg, code) => {
      const handled = options.magic?.(code) ?? false;
      if (handled) calls.push({ what: 'magic', channel, code });
      return handled;
    },
    completeMagic: (channel, msg) => {
      if (!String(msg.content().code).startsWith('%llmspell')) return false;
      calls.push({ what: 'completeMagic', channel });
      return true;
    },
    usage: (channel) => {
      if (options.usage === true) calls.push({ what: 'usage', channel });
      return options.usage === true;
    },
    shutdown: (channel, msg, restart) => calls.push({ what: 'shutdown', channel, detail: restart }),
    interrupt: (channel) => calls.push({ what: 'interrupt', channel }),
    submit: (channel, original, slot, msg) => calls.push({ what: 'submit', channel, msgType: msg.msgType, slot, code: msg.content().code }),
    fail: (channel, msg, reason) => calls.push({ what: 'fail', channel, msgType: msg.msgType, detail: reason }),
    drop: (channel, reason) => calls.push({ what: 'drop', detail: `${channel}:${reason}` }),
  };
  return { host: h, calls };
}

const submits = (calls: Call[]) => calls.filter((c) => c.what === 'submit').map((c) => `${c.msgType}->${c.slot}`);

describe('RequestDispatcher', () => {
  it.each([
    ['control', 'shutdown_request', { restart: true }, { what: 'shutdown', channel: 'control', detail: true }],
    ['shell', 'shutdown_request', {}, { what: 'shutdown', channel: 'shell', detail: false }],
    ['control', 'interrupt_request', {}, { what: 'interrupt', channel: 'control' }],
    ['shell', 'kernel_info_request', {}, { what: 'submit', channel: 'shell', msgType: 'kernel_info_request', slot: 'default', code: undefined }],
    ['control', 'debug_request', {}, { what: 'submit', channel: 'control', msgType: 'debug_request', slot: 'default', code: undefined }],
    ['stdin', 'input_reply', {}, { what: 'submit', channel: 'stdin', msgType: 'input_reply', slot: 'default', code: undefined }],
  ] as const)('%s %s %j -> %j', (channel, msgType, content, expected) => {
    const { host: h, calls } = host();
    new RequestDispatcher(h, silentLogger()).request(channel, request(msgType, content));
    expect(calls).toEqual([expected]);
  });

  it.each([
    ['answered by the router when it measures the backend', 'control', true, { what: 'usage', channel: 'control' }],
    ['left to the backend when the lease measures nothing', 'control', false, { what: 'submit', channel: 'control', msgType: 'usage_request', slot: 'default', code: undefined }],
    ['left to the backend on shell, where the spec has no usage_request', 'shell', true, { what: 'submit', channel: 'shell', msgType: 'usage_request', slot: 'default', code: undefined }],
  ] as const)('usage_request: %s', (_name, channel, measured, expected) => {
    const { host: h, calls } = host({ usage: measured });
    new RequestDispatcher(h, silentLogger()).request(channel, request('usage_request'));
    expect(calls).toEqual([expected]);
  });

  it('sends an execute_request to the slot its resolution names, with the stripped code', () => {
    const { host: h, calls } = host({ resolve: (code) => ({ requirement: { runtime: 'python', provider: 'p' }, code: String(code).replace('%%llmspell runtime=python\n', '') }) });
    new RequestDispatcher(h, silentLogger()).request('shell', request('execute_request', { code: '%%llmspell runtime=python\nprint(1)' }));
    expect(calls).toEqual([{ what: 'submit', channel: 'shell', msgType: 'execute_request', slot: 'python', code: 'print(1)' }]);
  });

  it('answers a resolution error itself and sends nothing on', () => {
    const { host: h, calls } = host({ resolve: () => ({ requirement: { runtime: 'x', provider: 'p' }, error: 'unknown runtime' }) });
    new RequestDispatcher(h, silentLogger()).request('shell', request('execute_request', { code: 'x' }));
    expect(calls).toEqual([{ what: 'fail', channel: 'shell', msgType: 'execute_request', detail: 'unknown runtime' }]);
  });

  it('keeps shell order while an earlier request waits for an async resolution', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { host: h, calls } = host({
      resolve: async (code) => {
        if (code === 'slow') await gate;
        return { requirement: { runtime: code === 'slow' ? 'lua' : 'default', provider: 'p' } };
      },
    });
    const d = new RequestDispatcher(h, silentLogger());
    d.request('shell', request('execute_request', { code: 'slow' }));
    d.request('shell', request('kernel_info_request'));
    d.request('shell', request('execute_request', { code: 'fast' }));
    // control does not queue behind shell.
    d.request('control', request('kernel_info_request'));
    expect(submits(calls)).toEqual(['kernel_info_request->default']);
    release();
    await gate;
    await new Promise<void>((r) => setImmediate(r));
    expect(submits(calls)).toEqual(['kernel_info_request->default', 'execute_request->lua', 'kernel_info_request->default', 'execute_request->default']);
  });

  it('answers a fleet magic itself and a magic completion too', () => {
    const { host: h, calls } = host({ magic: (code) => code.startsWith('%llmspell') });
    const d = new RequestDispatcher(h, silentLogger());
    d.request('shell', request('execute_request', { code: '%llmspell status' }));
    d.request('shell', request('complete_request', { code: '%llmspell u', cursor_pos: 11 }));
    d.request('shell', request('complete_request', { code: 'pri', cursor_pos: 3 }));
    expect(calls.map((c) => c.what)).toEqual(['magic', 'completeMagic', 'submit']);
  });

  it('holds later shell requests while a magic that returned a promise runs (a copy lands before the next cell)', async () => {
    let done!: () => void;
    const copying = new Promise<void>((r) => (done = r));
    const { host: h, calls } = host({ magic: (code) => (code.startsWith('%llmspell put') ? copying : false) });
    const d = new RequestDispatcher(h, silentLogger());
    d.request('shell', request('execute_request', { code: '%llmspell put x --to lua' }));
    d.request('shell', request('execute_request', { code: 'print(x)' }));
    d.request('control', request('kernel_info_request'));
    expect(calls.map((c) => c.what)).toEqual(['magic', 'submit']);
    expect(submits(calls)).toEqual(['kernel_info_request->default']);
    done();
    await copying;
    await new Promise<void>((r) => setImmediate(r));
    expect(submits(calls)).toEqual(['kernel_info_request->default', 'execute_request->default']);
  });

  it('routes comm messages to the backend that opened the comm, and forgets it on comm_close', () => {
    const { host: h, calls } = host({ resolve: () => ({ requirement: { runtime: 'python', provider: 'p' } }) });
    const d = new RequestDispatcher(h, silentLogger());
    d.request('shell', request('comm_open', { comm_id: 'c1', target_name: 't' }));
    d.iopub('lua', request('comm_open', { comm_id: 'c2' }, [Buffer.from('comm_open')]));
    d.request('shell', request('comm_msg', { comm_id: 'c1' }));
    d.request('shell', request('comm_msg', { comm_id: 'c2' }));
    d.request('shell', request('comm_close', { comm_id: 'c2' }));
    d.request('shell', request('comm_msg', { comm_id: 'c2' }));
    d.request('shell', request('comm_msg', { comm_id: 'unknown' }));
    expect(submits(calls)).toEqual(['comm_open->python', 'comm_msg->python', 'comm_msg->lua', 'comm_close->lua', 'comm_msg->default', 'comm_msg->default']);
  });

  it('sends a client\'s input_reply to the backend that asked that client, while it lives', () => {
    const dead = new Set<string>();
    const { host: h, calls } = host({ dead });
    const d = new RequestDispatcher(h, silentLogger());
    const other = [Buffer.from('client-2')];
    d.clientBound('lua', 'stdin', request('input_request', {}, client));
    d.clientBound('python', 'shell', request('input_request', {}, other)); // not on stdin: no owner
    d.request('stdin', request('input_reply', {}, client));
    d.request('stdin', request('input_reply', {}, other));
    dead.add('lua');
    d.request('stdin', request('input_reply', {}, client));
    expect(submits(calls)).toEqual(['input_reply->lua', 'input_reply->default', 'input_reply->default']);
  });

  it('drops a request whose content is not JSON as BAD_JSON', () => {
    const { host: h, calls } = host();
    const good = request('execute_request', { code: 'x' });
    const [hd, p, m] = good.parts.signed;
    const bad = new WireMessage({ ...good.parts, signed: [hd, p, m, Buffer.from('{not json')] });
    new RequestDispatcher(h, silentLogger()).request('shell', bad);
    expect(calls).toEqual([{ what: 'drop', detail: 'frontend.shell:BAD_JSON' }]);
  });

  it('does nothing once the router is not running, also for a resolution that ends after it stopped', async () => {
    let running = true;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { host: h, calls } = host({ running: () => running, resolve: async () => { await gate; return { requirement: { runtime: 'lua', provider: 'p' } }; } });
    const d = new RequestDispatcher(h, silentLogger());
    d.request('shell', request('execute_request', { code: 'x' }));
    running = false;
    release();
    await gate;
    await new Promise<void>((r) => setImmediate(r));
    d.request('control', request('shutdown_request'));
    expect(calls).toEqual([]);
  });
});

describe('Ownership', () => {
  it('keeps comm owners by id and stdin owners by routing ids', () => {
    const o = new Ownership<string>();
    o.commOpened('c1', 'A');
    o.commOpened(42, 'B'); // not a string id: ignored
    expect(o.commOwner('c1', false)).toBe('A');
    expect(o.commOwner('42', false)).toBeUndefined();
    expect(o.commOwner('c1', true)).toBe('A');
    expect(o.commOwner('c1', false)).toBeUndefined();
    o.inputRequested([Buffer.from('a'), Buffer.from('b')], 'A');
    expect(o.stdinOwner([Buffer.from('a'), Buffer.from('b')])).toBe('A');
    expect(o.stdinOwner([Buffer.from('ab')])).toBeUndefined();
  });
});
