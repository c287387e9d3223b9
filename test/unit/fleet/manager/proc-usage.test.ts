import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { familyUsage, groupUsage, parseChildren, parseStatLine, readFamilyUsage, readGroupUsage, scanGroupUsage, walkGroup } from '../../../../src/fleet/manager/proc-usage.js';

// Fields 1-22 of /proc/<pid>/stat; pgrp is field 5, utime 14, stime 15.
const stat = (pid: number, comm: string, pgrp: number, utime: number, stime: number) =>
  `${pid} (${comm}) S 1 ${pgrp} ${pgrp} 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 1 0 12345 1000000 250 18446744073709551615\n`;

describe('parseStatLine', () => {
  it.each([
    ['a plain command', stat(42, 'node', 42, 150, 50), { pid: 42, ppid: 1, pgrp: 42, cpuTicks: 200 }],
    ['a command with spaces and ")"', stat(43, 'a b) c', 42, 1, 2), { pid: 43, ppid: 1, pgrp: 42, cpuTicks: 3 }],
    ['not a stat line', 'garbage', undefined],
    ['a cut-off line', '42 (node) S 1 42', undefined],
  ])('%s', (_name, text, expected) => {
    expect(parseStatLine(text)).toEqual(expected);
  });
});

describe('groupUsage', () => {
  const lines = [
    { pid: 10, ppid: 1, pgrp: 10, cpuTicks: 100 },
    { pid: 11, ppid: 10, pgrp: 10, cpuTicks: 50 },
    { pid: 20, ppid: 1, pgrp: 20, cpuTicks: 7 },
    { pid: 30, ppid: 1, pgrp: 1, cpuTicks: 999 },
  ];
  const rss: Record<number, number | undefined> = { 10: 1000, 11: 500, 20: undefined, 30: 1 };

  it.each([
    ['a group of two sums both', [10], { 10: { processes: 2, residentBytes: 1500, cpuSeconds: 1.5 } }],
    ['a member whose RSS is unknown (a zombie) counts 0 bytes', [20], { 20: { processes: 1, residentBytes: 0, cpuSeconds: 0.07 } }],
    ['a group with no process left is absent', [99], {}],
    ['only the groups asked for', [10, 20], { 10: { processes: 2, residentBytes: 1500, cpuSeconds: 1.5 }, 20: { processes: 1, residentBytes: 0, cpuSeconds: 0.07 } }],
  ])('%s', (_name, groups, expected) => {
    expect(Object.fromEntries(groupUsage(lines, new Set(groups), (pid) => rss[pid]))).toEqual(expected);
  });

  it('reads a real process group from /proc with memory and CPU', async () => {
    // A group of its own, led by a live process, as a backend is: this test's own group may be
    // led by a process that has exited (CI's shell), which the walk from the leader cannot find.
    const { spawn } = await import('node:child_process');
    const leader = spawn(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => leader.stdout.once('data', resolve));
      const usage = readGroupUsage([leader.pid!]).get(leader.pid!);
      expect(usage?.processes).toBe(1);
      expect(usage?.residentBytes).toBeGreaterThan(0);
      expect(usage?.cpuSeconds).toBeGreaterThan(0);
    } finally {
      process.kill(-leader.pid!, 'SIGKILL');
      await new Promise((resolve) => leader.once('exit', resolve));
    }
  });
});

describe('familyUsage', () => {
  // 10 leads the backend's group; 12, its child, leads a group of its own (llmspell behind the
  // adapter) and has a child 13; 20 is another backend; 11 a member started by 10.
  const lines = [
    { pid: 10, ppid: 1, pgrp: 10, cpuTicks: 100 },
    { pid: 11, ppid: 10, pgrp: 10, cpuTicks: 50 },
    { pid: 12, ppid: 10, pgrp: 12, cpuTicks: 200 },
    { pid: 13, ppid: 12, pgrp: 12, cpuTicks: 10 },
    { pid: 20, ppid: 1, pgrp: 20, cpuTicks: 7 },
  ];
  const rss = (pid: number) => pid * 100;

  it.each([
    ['the group and the children in a group of their own, with theirs', 10, { processes: 4, residentBytes: 4600, cpuSeconds: 3.6 }],
    ['a backend with no descendants: its group alone', 20, { processes: 1, residentBytes: 2000, cpuSeconds: 0.07 }],
    ['a group with no process left', 99, undefined],
  ])('%s', (_name, leader, expected) => {
    expect(familyUsage(lines, leader, rss)).toEqual(expected);
  });

  it('reads this test process group from the real /proc', () => {
    const own = parseStatLine(readFileSync('/proc/self/stat', 'utf8'));
    expect(readFamilyUsage(own!.pgrp)?.residentBytes).toBeGreaterThan(0);
  });
});

describe('walkGroup', () => {
  // pid -> [pgrp, children]: 10 leads; 11 and its child 12 are in the group; 13 made a group of
  // its own (so its child 14, though in group 10 again, is not reached); 15 is gone.
  const tree: Record<number, [number, number[]]> = { 10: [10, [11, 13, 15]], 11: [10, [12]], 12: [10, []], 13: [13, [14]], 14: [10, []] };
  const statOf = (pid: number) => (tree[pid] === undefined ? undefined : { pid, ppid: 0, pgrp: tree[pid][0], cpuTicks: 1 });
  const childrenOf = (pid: number) => tree[pid]?.[1] ?? [];

  it.each([
    ['the leader and its descendants in its group', 10, [10, 11, 12]],
    ['a leader that is gone: nobody', 99, []],
    ['a pid that leads no group (its pgrp is another): nobody', 11, []],
    ['a sub-group led by a descendant', 13, [13]],
  ])('%s', (_name, leader, expected) => {
    expect(walkGroup(leader, statOf, childrenOf).map((s) => s.pid).sort((a, b) => a - b)).toEqual(expected);
  });

  it('visits a pid once even if listed twice', () => {
    expect(walkGroup(1, (pid) => ({ pid, ppid: 0, pgrp: 1, cpuTicks: 0 }), (pid) => (pid === 1 ? [2, 2] : pid === 2 ? [1] : [])).map((s) => s.pid)).toEqual([1, 2]);
  });
});

describe('parseChildren', () => {
  it.each([
    ['none', '', []],
    ['two, with the trailing space the kernel writes', '12 345 ', [12, 345]],
  ])('%s', (_name, text, expected) => {
    expect(parseChildren(text)).toEqual(expected);
  });
});

describe('readGroupUsage against the real /proc', () => {
  it('finds the same members of a real group with children as a scan of all of /proc', async () => {
    const { spawn } = await import('node:child_process');
    // A detached shell leads its own group and starts a child in it, as a kernel starts a helper.
    const leader = spawn('sh', ['-c', 'sleep 30 & echo started; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => leader.stdout.once('data', resolve));
      const pgid = leader.pid!;
      const walked = readGroupUsage([pgid]).get(pgid);
      expect(walked?.processes).toBe(2);
      expect(walked?.processes).toBe(scanGroupUsage([pgid]).get(pgid)?.processes);
      expect(walked?.residentBytes).toBeGreaterThan(0);
    } finally {
      process.kill(-leader.pid!, 'SIGKILL');
      await new Promise((resolve) => leader.once('exit', resolve));
    }
  });
});
