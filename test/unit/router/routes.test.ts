import { describe, expect, it } from 'vitest';
import { routeClientRequest } from '../../../src/router/routes.js';

describe('routeClientRequest', () => {
  it.each([
    ['shell', 'execute_request', {}, 'signal', { kind: 'forward' }],
    ['shell', 'kernel_info_request', {}, 'message', { kind: 'forward' }],
    ['control', 'kernel_info_request', {}, 'signal', { kind: 'forward' }],
    ['control', 'debug_request', {}, 'message', { kind: 'forward' }],
    ['control', 'shutdown_request', { restart: false }, 'message', { kind: 'shutdown', restart: false }],
    ['control', 'shutdown_request', { restart: true }, 'signal', { kind: 'shutdown', restart: true }],
    ['shell', 'shutdown_request', { restart: true }, 'signal', { kind: 'shutdown', restart: true }],
    ['control', 'shutdown_request', {}, 'signal', { kind: 'shutdown', restart: false }],
    ['control', 'interrupt_request', {}, 'signal', { kind: 'interrupt', via: 'signal' }],
    ['control', 'interrupt_request', {}, 'message', { kind: 'interrupt', via: 'message' }],
    ['shell', 'interrupt_request', {}, 'signal', { kind: 'forward' }],
    ['stdin', 'input_reply', {}, 'signal', { kind: 'forward' }],
    ['stdin', 'shutdown_request', { restart: true }, 'signal', { kind: 'forward' }],
  ] as const)('%s %s %j (backend %s) -> %j', (channel, msgType, content, mode, expected) => {
    expect(routeClientRequest(channel, msgType, () => content, mode)).toEqual(expected);
  });

  it('parses content only when the decision needs it', () => {
    let parsed = 0;
    routeClientRequest('shell', 'execute_request', () => { parsed++; return {}; }, 'signal');
    expect(parsed).toBe(0);
  });
});
