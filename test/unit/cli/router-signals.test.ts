import { describe, expect, it } from 'vitest';
import { signalAction } from '../../../src/cli/router-signals.js';

describe('signalAction: a signal the stub passes on does what it does to a standalone router', () => {
  it.each([
    ['SIGTERM', 'stop'],
    ['SIGHUP', 'stop'],
    ['SIGINT', 'interrupt'],
  ] as const)('%s -> %s', (signal, action) => {
    expect(signalAction(signal)).toBe(action);
  });
});
