import { describe, expect, it } from 'vitest';
import { describeExit } from '../../../src/shared/exit.js';

describe('describeExit', () => {
  it.each([
    [{ exitCode: null, signal: 'SIGKILL', reason: 'signalled' }, 'was killed by SIGKILL'],
    [{ exitCode: 3, signal: null, reason: 'exited' }, 'exited with code 3'],
    [{ exitCode: 0, signal: null, reason: 'exited' }, 'exited with code 0'],
    [{ exitCode: null, signal: 'SIGTERM', reason: 'stopped' }, 'was stopped'],
    [{ exitCode: null, signal: null, reason: 'lost' }, 'lost'],
    [{ exitCode: 2, signal: null }, 'exited with code 2'],
    [{ exitCode: null, signal: 'SIGTERM' }, 'was killed by SIGTERM'],
  ])('%j -> %s', (exit, text) => {
    expect(describeExit(exit)).toBe(text);
  });
});
