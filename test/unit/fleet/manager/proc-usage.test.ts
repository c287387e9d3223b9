import { describe, expect, it } from 'vitest';
import { familyUsage, familyUsages, parseChildren, parseStatLine, readFamilyUsages, scanFamilyUsages, walkFamily, type ProcSource } from '../../../../src/fleet/manager/proc-usage.js';

// Fields 1-22 of /proc/<pid>/stat; pgrp is field 5, utime 14, stime 15.
const stat = (pid: number, comm: string, pgrp: number, utime: number, stime: number, ppid = 1) =>
  `${pid} (${comm}) S ${ppid} ${pgrp} ${pgrp} 0 -1 4194560 100 0 0 0 ${utime} ${stime} 0 0 20 0 1 0 12345 1000000 250 18446744073709551615\n`;

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

describe('readFamilyUsages', () => {
  it('reads a real process group from /proc with memory and CPU', async () => {
    // A group of its own, led by a live process, as a backend is: this test's own group may be
    // led by a process that has exited (CI's shell), which the walk from the leader cannot find.
    const { spawn } = await import('node:child_process');
    const leader = spawn(process.execPath, ['-e', 'console.log("up"); setInterval(() => {}, 1000)'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => leader.stdout.once('data', resolve));
      const usage = readFamilyUsages([leader.pid!]).get(leader.pid!);
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

});

describe('walkFamily', () => {
  // pid -> [pgrp, children]: 10 leads; 11 and its child 12 are in the group; 13 made a group of
  // its own (llmspell behind the adapter) with a child 14; 15 is gone; 20 leads another group.
  const tree: Record<number, [number, number[]]> = { 10: [10, [11, 13, 15]], 11: [10, [12]], 12: [10, []], 13: [13, [14]], 14: [13, []], 20: [20, []] };
  const statOf = (pid: number) => (tree[pid] === undefined ? undefined : { pid, ppid: 0, pgrp: tree[pid][0], cpuTicks: 1 });
  const childrenOf = (pid: number) => tree[pid]?.[1] ?? [];

  it.each([
    ['the leader and every descendant, in its group or not', 10, [10, 11, 12, 13, 14]],
    ['a leader that is gone: nobody', 99, []],
    ['a pid that leads no group (its pid was reused): nobody', 11, []],
    ['a sub-group led by a descendant: that part of the family', 13, [13, 14]],
    ['a leader without children', 20, [20]],
  ])('%s', (_name, leader, expected) => {
    expect(walkFamily(leader, statOf, childrenOf).map((s) => s.pid).sort((a, b) => a - b)).toEqual(expected);
  });

  it('visits a pid once even if listed twice', () => {
    expect(walkFamily(1, (pid) => ({ pid, ppid: 0, pgrp: 1, cpuTicks: 0 }), (pid) => (pid === 1 ? [2, 2] : pid === 2 ? [1] : [])).map((s) => s.pid)).toEqual([1, 2]);
  });
});

/**
 * A synthetic /proc: per pid its stat line (as the kernel writes it), its children file (all
 * threads' children) and its RSS. `childrenFiles: false` is a kernel without them (the scan).
 */
function syntheticProc(procs: Record<number, { stat: string; children: number[]; rss?: number }>, childrenFiles = true): ProcSource & { reads: { children: number; pids: number } } {
  const reads = { children: 0, pids: 0 };
  return {
    reads,
    stat: (pid) => (procs[pid] === undefined ? undefined : parseStatLine(procs[pid].stat)),
    children: (pid) => {
      reads.children++;
      if (!childrenFiles) return undefined;
      return procs[pid] === undefined ? [] : parseChildren(procs[pid].children.map((c) => `${c} `).join(''));
    },
    rss: (pid) => procs[pid]?.rss,
    pids: () => {
      reads.pids++;
      return Object.keys(procs).map(Number);
    },
  };
}

describe('familyUsages on a synthetic /proc: one measure for list, /metrics and usage', () => {
  // 100: an llmspell adapter backend (group 100) whose llmspell (101) leads group 101 and runs a
  // language server 102; 103, a helper in the group. 200: ipykernel with no children. 300: a
  // zombie leader (no RSS) with one child. 400: another user's process, in no backend's family.
  const procs = {
    1: { stat: stat(1, 'init', 1, 0, 0, 0), children: [100, 200, 300, 400] },
    100: { stat: stat(100, 'llmspell-adapter', 100, 100, 50), children: [101, 103], rss: 10_000 },
    101: { stat: stat(101, 'llmspell', 101, 300, 100, 100), children: [102], rss: 50_000 },
    102: { stat: stat(102, 'lua-ls', 101, 20, 10, 101), children: [], rss: 5_000 },
    103: { stat: stat(103, 'helper', 100, 1, 1, 100), children: [], rss: 1_000 },
    200: { stat: stat(200, 'python3', 200, 250, 50), children: [], rss: 80_000 },
    300: { stat: stat(300, 'node', 300, 5, 5), children: [301] },
    301: { stat: stat(301, 'node', 300, 5, 5, 300), children: [], rss: 3_000 },
    400: { stat: stat(400, 'bash', 400, 999, 999), children: [], rss: 999_999 },
  };
  it.each<[string, number[], Record<number, { processes: number; residentBytes: number; cpuSeconds: number }>]>([
    ['llmspell out of the adapter group is counted, with its own child', [100], { 100: { processes: 4, residentBytes: 66_000, cpuSeconds: 5.82 } }],
    ['a backend with no children: itself', [200], { 200: { processes: 1, residentBytes: 80_000, cpuSeconds: 3 } }],
    ['a member with no RSS (a zombie) counts 0 bytes', [300], { 300: { processes: 2, residentBytes: 3_000, cpuSeconds: 0.2 } }],
    ['several backends at once, none counting another or a stranger', [100, 200], { 100: { processes: 4, residentBytes: 66_000, cpuSeconds: 5.82 }, 200: { processes: 1, residentBytes: 80_000, cpuSeconds: 3 } }],
    ['a gone backend is absent', [999], {}],
    ['a pid that leads no group is absent', [102], {}],
  ])('%s', (_name, leaders, expected) => {
    const walked = syntheticProc(procs);
    const got = Object.fromEntries([...familyUsages(leaders, walked)].map(([k, u]) => [k, { ...u, cpuSeconds: Math.round(u.cpuSeconds * 100) / 100 }]));
    expect(got).toEqual(expected);
    // The walk never lists /proc; without children files the scan finds the same families.
    expect(walked.reads.pids).toBe(0);
    const scanning = syntheticProc(procs, false);
    const scanned = Object.fromEntries([...familyUsages(leaders, scanning)].map(([k, u]) => [k, { ...u, cpuSeconds: Math.round(u.cpuSeconds * 100) / 100 }]));
    expect(scanned).toEqual(expected);
  });
});

describe('familyUsages counts open fds only when the source can', () => {
  const procs = {
    10: { stat: stat(10, 'kernel', 10, 1, 1), children: [11], rss: 100 },
    11: { stat: stat(11, 'helper', 10, 1, 1, 10), children: [], rss: 100 },
  };
  const fds: Record<number, number> = { 10: 40, 11: 7 };
  it.each([
    ['the walk sums its members', true, 47],
    ['the scan sums its members', false, 47],
  ])('%s', (_name, childrenFiles, open) => {
    const source = { ...syntheticProc(procs, childrenFiles), fds: (pid: number) => fds[pid] };
    expect(familyUsages([10], source).get(10)?.openFds).toBe(open);
  });

  it('a source without fds leaves the field out', () => {
    expect(familyUsages([10], syntheticProc(procs)).get(10)).not.toHaveProperty('openFds');
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

describe('readFamilyUsages against the real /proc', () => {
  it('finds the same members of a real family with children as a scan of all of /proc', async () => {
    const { spawn } = await import('node:child_process');
    // A detached shell leads its own group and starts a child in it, as a kernel starts a helper.
    const leader = spawn('sh', ['-c', 'sleep 30 & echo started; wait'], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => leader.stdout.once('data', resolve));
      const pgid = leader.pid!;
      const walked = readFamilyUsages([pgid]).get(pgid);
      expect(walked?.processes).toBe(2);
      expect(walked?.processes).toBe(scanFamilyUsages([pgid]).get(pgid)?.processes);
      expect(walked?.residentBytes).toBeGreaterThan(0);
      // Each of the two holds at least stdin, stdout and stderr open.
      expect(walked?.openFds).toBeGreaterThanOrEqual(6);
      // The scan reads the same family: not this test's own group, whose leader (CI's shell) may
      // have exited, which a family walk from the leader cannot find (failed in a fresh-clone run).
      expect(scanFamilyUsages([pgid]).get(pgid)?.residentBytes).toBeGreaterThan(0);
    } finally {
      process.kill(-leader.pid!, 'SIGKILL');
      await new Promise((resolve) => leader.once('exit', resolve));
    }
  });
});
