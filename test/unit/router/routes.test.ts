import { describe, expect, it } from 'vitest';
import { routeClientRequest } from '../../../src/router/routes.js';

describe('routeClientRequest', () => {
  it.each([
    ['shell', 'execute_request', {}, { kind: 'forward' }],
    ['shell', 'kernel_info_request', {}, { kind: 'forward' }],
    ['control', 'kernel_info_request', {}, { kind: 'forward' }],
    ['control', 'debug_request', {}, { kind: 'forward' }],
    ['control', 'shutdown_request', { restart: false }, { kind: 'shutdown', restart: false }],
    ['control', 'shutdown_request', { restart: true }, { kind: 'shutdown', restart: true }],
    ['shell', 'shutdown_request', { restart: true }, { kind: 'shutdown', restart: true }],
    ['control', 'shutdown_request', {}, { kind: 'shutdown', restart: false }],
    ['control', 'shutdown_request', { restart: 'yes' }, { kind: 'shutdown', restart: false }],
    ['control', 'interrupt_request', {}, { kind: 'interrupt' }],
    ['shell', 'interrupt_request', {}, { kind: 'forward' }],
    ['stdin', 'input_reply', {}, { kind: 'forward' }],
    ['stdin', 'shutdown_request', { restart: true }, { kind: 'forward' }],
  ] as const)('%s %s %j -> %j', (channel, msgType, content, expected) => {
    expect(routeClientRequest(channel, msgType, () => content)).toEqual(expected);
  });

  it('parses content only when the decision needs it', () => {
    let parsed = 0;
    routeClientRequest('shell', 'execute_request', () => { parsed++; return {}; });
    expect(parsed).toBe(0);
  });
});
