import { describe, expect, it } from 'vitest';
import { parseManagerLine } from '../../../../src/fleet/manager/responses.js';

const record = {
  kernelId: 'lua-openai-1',
  pid: 4242,
  requirement: { runtime: 'lua', provider: 'openai' },
  state: 'ready',
  interruptMode: 'signal',
  connectionFile: '/h/backends/lua-openai-1.json',
  logFile: '/h/logs/lua-openai-1.log',
  startedAt: 1,
  ports: [1, 2, 3, 4, 5],
  ip: '127.0.0.1',
  attached: [],
};
const connection = { transport: 'tcp', ip: '127.0.0.1', shell_port: 1, iopub_port: 2, stdin_port: 3, control_port: 4, hb_port: 5, key: 'k', signature_scheme: 'hmac-sha256' };

describe('parseManagerLine', () => {
  it.each<[string, unknown, unknown]>([
    ['an ok response', { id: 1, ok: true, result: { released: true } }, { id: 1, ok: true, result: { released: true } }],
    ['an ok response whose result was undefined', { id: 2, ok: true }, { id: 2, ok: true, result: undefined }],
    ['an error response', { id: 3, ok: false, error: { code: 'UNKNOWN_RUNTIME', message: 'm', context: { a: 1 } } }, { id: 3, ok: false, error: { code: 'UNKNOWN_RUNTIME', message: 'm', context: { a: 1 } } }],
    ['an exit event', { event: 'backend-exited', kernelId: 'k', exitCode: null, signal: 'SIGKILL' }, { event: 'backend-exited', kernelId: 'k', exitCode: null, signal: 'SIGKILL' }],
    [
      'an exit event with the limit that caused it',
      { event: 'backend-exited', kernelId: 'k', reason: 'memory-limit', cause: 'killed: memory limit 512 MB reached', exitCode: null, signal: 'SIGKILL' },
      { event: 'backend-exited', kernelId: 'k', reason: 'memory-limit', cause: 'killed: memory limit 512 MB reached', exitCode: null, signal: 'SIGKILL' },
    ],
    ['a warning for the running cell', { event: 'backend-warning', kernelId: 'k', message: 'near the limit' }, { event: 'backend-warning', kernelId: 'k', message: 'near the limit' }],
    ['a restart event with its handle', { event: 'backend-restarted', kernelId: 'k', handle: { record, connection } }, { event: 'backend-restarted', kernelId: 'k', handle: { record, connection } }],
    [
      'a fleet event (to a connection that asked for events)',
      { event: 'fleet-event', kernelId: 'k', fleet: { type: 'exited', kernelId: 'k', runtime: 'lua', provider: 'openai', time: 5, reason: 'signalled', exitCode: null, signal: 'SIGKILL' } },
      { event: 'fleet-event', kernelId: 'k', fleet: { type: 'exited', kernelId: 'k', runtime: 'lua', provider: 'openai', time: 5, reason: 'signalled', exitCode: null, signal: 'SIGKILL' } },
    ],
  ])('reads %s', (_name, message, expected) => {
    expect(parseManagerLine(JSON.stringify(message))).toStrictEqual(expected);
  });

  it.each<[string, string]>([
    ['not JSON', '{'],
    ['not an object', '[1]'],
    ['no id', JSON.stringify({ ok: true, result: 1 })],
    ['ok not a boolean', JSON.stringify({ id: 1, ok: 'yes' })],
    ['an error without its error', JSON.stringify({ id: 1, ok: false })],
    ['an unknown event', JSON.stringify({ event: 'backend-exploded', kernelId: 'k' })],
    ['a fleet event of an unknown type', JSON.stringify({ event: 'fleet-event', kernelId: 'k', fleet: { type: 'exploded', kernelId: 'k', runtime: 'lua', provider: 'openai', time: 5 } })],
    ['a restart whose handle has no ports', JSON.stringify({ event: 'backend-restarted', kernelId: 'k', handle: { record, connection: { ...connection, shell_port: undefined } } })],
  ])('drops %s', (_name, line) => {
    expect(parseManagerLine(line)).toBeUndefined();
  });
});
