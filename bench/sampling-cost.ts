/**
 * What one read of the backends' process groups costs in the manager's sampling code, done the
 * way it does it (walking down from each group's leader) and the way it used to (a scan of every
 * process in /proc), on this host as it is and with many more processes on it (a busy host).
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { readFamilyUsages, scanFamilyUsages } from '../src/fleet/manager/proc-usage.js';
import { median } from './stats.js';

export interface SamplingCost { hostProcesses: number; walkMs: number; scanMs: number }

function timed(runs: number, once: () => unknown): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    once();
    times.push(performance.now() - t);
  }
  return median(times);
}

export function hostProcesses(): number {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).length;
}

export function samplingCost(pgids: readonly number[], runs = 50): SamplingCost {
  return { hostProcesses: hostProcesses(), walkMs: timed(runs, () => readFamilyUsages(pgids)), scanMs: timed(runs, () => scanFamilyUsages(pgids)) };
}

/** Runs `body` while `count` idle processes (sleep, in one group of their own) stand in for a busy host's other processes. */
export async function withIdleProcesses<T>(count: number, body: () => Promise<T> | T): Promise<T> {
  const crowd = spawn('sh', ['-c', 'i=0; while [ $i -lt "$1" ]; do sleep 600 & i=$((i+1)); done; echo started; wait', 'sh', String(count)], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  const exited = new Promise((resolve) => crowd.once('exit', resolve));
  try {
    await new Promise((resolve, reject) => {
      crowd.stdout.once('data', resolve);
      crowd.once('error', reject);
    });
    return await body();
  } finally {
    process.kill(-crowd.pid!, 'SIGKILL');
    await exited;
  }
}
