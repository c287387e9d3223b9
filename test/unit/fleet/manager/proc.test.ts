import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isSameProcess, killGroup, parseProcStat, parseRssBytes, procStartTime, processesMentioning, rssBytes } from '../../../../src/fleet/manager/proc.js';

const tail = (state: string, start: number) => `${state} 1 1 1 0 -1 4194304 96 0 0 0 0 0 0 0 20 0 1 0 ${start} 3133440 382`;

describe('parseProcStat', () => {
  it.each([
    ['plain name', `123 (node) ${tail('S', 251238)}`, { state: 'S', startTime: 251238 }],
    ['name with spaces and parens', `123 (my (odd) name) ${tail('R', 42)}`, { state: 'R', startTime: 42 }],
    ['zombie', `7 (x) ${tail('Z', 9)}`, { state: 'Z', startTime: 9 }],
    ['no parenthesis', '123 node S 1', undefined],
    ['truncated', '123 (node) S 1 2', undefined],
    ['empty', '', undefined],
  ])('%s', (_name, text, expected) => {
    expect(parseProcStat(text)).toEqual(expected);
  });
});

describe('parseRssBytes', () => {
  it.each([
    ['kB line', 'Name:\tnode\nVmRSS:\t    1936 kB\nVmData: 1 kB\n', 1936 * 1024],
    ['no VmRSS (kernel thread, zombie)', 'Name:\tkworker\nState:\tI (idle)\n', undefined],
    ['empty', '', undefined],
  ])('%s', (_name, text, expected) => {
    expect(parseRssBytes(text)).toBe(expected);
  });
});

describe('process identity on this machine', () => {
  it('knows our own start time and memory, and tells another start time apart', () => {
    const start = procStartTime(process.pid);
    expect(start).toBeTypeOf('number');
    expect(isSameProcess(process.pid, start)).toBe(true);
    expect(isSameProcess(process.pid, undefined)).toBe(true);
    expect(isSameProcess(process.pid, (start as number) + 1)).toBe(false);
    expect(rssBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });

  it('says no for pids that cannot be ours', () => {
    expect(procStartTime(0)).toBeUndefined();
    expect(procStartTime(-5)).toBeUndefined();
    expect(procStartTime(2 ** 31)).toBeUndefined();
    expect(isSameProcess(2 ** 31, undefined)).toBe(false);
  });

  it.each([
    ['init', 1],
    ['ourselves', process.pid],
    ['a negative pid', -1],
  ])('killGroup refuses %s', (_name, pid) => {
    expect(killGroup(pid, 'SIGTERM', undefined)).toBe(false);
  });

  it('killGroup signals a detached child only while it is the recorded incarnation', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'proc-test-marker'], { detached: true, stdio: 'ignore' });
    await once(child, 'spawn');
    const pid = child.pid as number;
    const start = procStartTime(pid) as number;
    expect(processesMentioning('proc-test-marker')).toContain(pid);
    // A wrong start time means "someone else has this pid now": nothing is sent.
    expect(killGroup(pid, 'SIGTERM', start + 1)).toBe(false);
    expect(isSameProcess(pid, start)).toBe(true);
    const exited = once(child, 'exit');
    expect(killGroup(pid, 'SIGTERM', start)).toBe(true);
    const [code, signal] = await exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGTERM' });
    expect(isSameProcess(pid, start)).toBe(false);
    expect(killGroup(pid, 'SIGTERM', start)).toBe(false);
  });
});
