import { describe, expect, it } from 'vitest';
import { crashOutput } from '../../../src/shared/exit.js';

const TAIL = 'Traceback (most recent call last):\n  File "k.py", line 1\nline 3\nline 4\nline 5\nRuntimeError: disk full\n\n';

describe('crashOutput: the last lines of a backend that crashed, and only then', () => {
  it.each<[string, Parameters<typeof crashOutput>[0], string | undefined]>([
    ['its own non-zero exit: the last five lines, blank ones dropped', { exitCode: 3, signal: null, reason: 'exited', stderrTail: TAIL }, '  File "k.py", line 1\nline 3\nline 4\nline 5\nRuntimeError: disk full'],
    ['a fault signal', { exitCode: null, signal: 'SIGSEGV', reason: 'signalled', stderrTail: 'Fatal Python error: Segmentation fault\n' }, 'Fatal Python error: Segmentation fault'],
    ['an abort', { exitCode: null, signal: 'SIGABRT', reason: 'signalled', stderrTail: 'assertion failed\n' }, 'assertion failed'],
    ['exit code 0 is no crash', { exitCode: 0, signal: null, reason: 'exited', stderrTail: TAIL }, undefined],
    ['a kill from outside says its signal, nothing more', { exitCode: null, signal: 'SIGKILL', reason: 'signalled', stderrTail: TAIL }, undefined],
    ['a limit tells its own reason', { exitCode: null, signal: 'SIGKILL', reason: 'memory-limit', stderrTail: TAIL }, undefined],
    ['a stop', { exitCode: null, signal: 'SIGTERM', reason: 'stopped', stderrTail: TAIL }, undefined],
    ['a cull', { exitCode: 0, signal: null, reason: 'culled', stderrTail: TAIL }, undefined],
    ['nothing written', { exitCode: 1, signal: null, reason: 'exited', stderrTail: '\n\n' }, undefined],
    ['no tail known (an adopted backend)', { exitCode: 1, signal: null, reason: 'exited' }, undefined],
  ])('%s', (_name, exit, expected) => {
    expect(crashOutput(exit)).toBe(expected);
  });
});
