/**
 * BackendProcess's pure helpers (exitReason, redactArgv, routerConnectionInfo) and the plans
 * launch refuses before it spawns anything.
 */
import { describe, expect, it } from 'vitest';
import { BackendProcess, exitReason, redactArgv, routerConnectionInfo } from '../../../src/fleet/backend-process.js';
import { standinPlan, useBackendProcesses } from '../../helpers/backend-process.js';

useBackendProcesses();

describe('pure helpers', () => {
  it.each([
    { termination: {}, exit: { exitCode: 0, signal: null }, expected: 'exited' },
    { termination: {}, exit: { exitCode: 3, signal: null }, expected: 'exited' },
    { termination: {}, exit: { exitCode: null, signal: 'SIGSEGV' as const }, expected: 'signalled' },
    { termination: { requested: 'stopped' as const }, exit: { exitCode: null, signal: 'SIGTERM' as const }, expected: 'stopped' },
    { termination: { requested: 'stopped' as const }, exit: { exitCode: 0, signal: null }, expected: 'stopped' },
    { termination: { requested: 'startup-failed' as const }, exit: { exitCode: null, signal: 'SIGKILL' as const }, expected: 'startup-failed' },
  ])('exitReason $termination $exit -> $expected', ({ termination, exit, expected }) => {
    expect(exitReason(termination, exit)).toBe(expected);
  });

  it.each([
    { argv: ['llmspell', 'kernel', 'start'], secrets: ['sk-123'], expected: ['llmspell', 'kernel', 'start'] },
    { argv: ['x', '--key=sk-123', 'sk-123'], secrets: ['sk-123'], expected: ['x', '[redacted]', '[redacted]'] },
    { argv: ['x', 'y'], secrets: [''], expected: ['x', 'y'] },
    { argv: [], secrets: ['s'], expected: [] },
  ])('redactArgv $argv', ({ argv, secrets, expected }) => {
    expect(redactArgv(argv, secrets)).toEqual(expected);
  });

  it('routerConnectionInfo assigns ports in channel order with a fresh 32-byte key', () => {
    const info = routerConnectionInfo([1, 2, 3, 4, 5]);
    expect(info).toMatchObject({ transport: 'tcp', ip: '127.0.0.1', shell_port: 1, iopub_port: 2, stdin_port: 3, control_port: 4, hb_port: 5, signature_scheme: 'hmac-sha256' });
    expect(info.key).toMatch(/^[0-9a-f]{64}$/);
    expect(routerConnectionInfo([1, 2, 3, 4, 5]).key).not.toBe(info.key);
    expect(() => routerConnectionInfo([1, 2, 3, 4])).toThrow(TypeError);
  });

  it.each([
    { name: 'empty argv', patch: { argv: [] } },
    { name: 'relative connection file', patch: { connectionFile: 'kernel.json' } },
    { name: 'relative log file', patch: { logFile: 'x.log' } },
    { name: 'zero timeout', patch: { startupTimeoutMs: 0 } },
    { name: 'unknown mode', patch: { connection: 'both' as never } },
  ])('launch rejects a plan with $name as a TypeError', async ({ patch }) => {
    await expect(BackendProcess.launch({ ...standinPlan(), ...patch })).rejects.toThrow(TypeError);
  });
});
