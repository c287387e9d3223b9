import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackendProcess } from '../src/fleet/backend-process.js';
import { JupyterClient } from '../src/wire/client.js';
import { executeCell } from '../src/wire/execute.js';
import { waitForReady } from '../src/wire/ready.js';
import { launch, python, routerArgv, routerEnv } from './harness.js';
import { table } from './stats.js';

/**
 * Where a routed round trip's time goes (issue #12 item 4): CPU time and thread wake-ups
 * (context switches, from /proc/PID/task/TID) per round trip, in the router and in the kernel,
 * per thread kind. A wake-up is a switch into a thread; voluntary ones are the thread blocking
 * (epoll, futex) and being woken again, which on 2 vCPUs is what a hop costs in latency.
 */
const IPYKERNEL = [python, '-m', 'ipykernel_launcher', '-f', '{connection_file}'];

interface ThreadSample { comm: string; cpuTicks: number; switches: number }
type ProcessSample = Map<number, ThreadSample>;

async function sampleProcess(pid: number): Promise<ProcessSample> {
  const out: ProcessSample = new Map();
  let tids: string[] = [];
  try {
    tids = await readdir(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const status = await readFile(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields after the comm: state is [0], utime [11], stime [12] (proc(5)).
      const cpuTicks = Number(fields[11]) + Number(fields[12]);
      const vol = Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      const invol = Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
      out.set(Number(tid), { comm, cpuTicks, switches: vol + invol });
    } catch {
      // A thread that ended between readdir and read.
    }
  }
  return out;
}

/** Thread names grouped into kinds: the main thread, zeromq's I/O thread, the rest. */
function kindOf(comm: string, tid: number, pid: number): string {
  if (tid === pid) return 'main';
  if (comm.startsWith('ZMQbg/IO')) return 'zmq io';
  if (comm.startsWith('ZMQbg')) return 'zmq other';
  return 'other';
}

function delta(before: ProcessSample, after: ProcessSample, pid: number): Map<string, { cpuTicks: number; switches: number }> {
  const kinds = new Map<string, { cpuTicks: number; switches: number }>();
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { cpuTicks: 0, switches: 0 };
    const kind = kindOf(a.comm, tid, pid);
    const k = kinds.get(kind) ?? { cpuTicks: 0, switches: 0 };
    k.cpuTicks += a.cpuTicks - b.cpuTicks;
    k.switches += a.switches - b.switches;
    kinds.set(kind, k);
  }
  return kinds;
}

async function childPids(pid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const tid of await readdir(`/proc/${pid}/task`).catch(() => [])) {
    const text = await readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch(() => '');
    pids.push(...text.split(' ').filter(Boolean).map(Number));
  }
  return pids;
}

export interface HopCostOptions { n: number; /** Node flags for the router (e.g. --cpu-prof). */ nodeArgs?: string[] }

/**
 * Per round trip of kernel_info and of an execute (`pass`), direct and routed: CPU ms and
 * wake-ups in each process, by thread kind. The kernel is ipykernel.
 */
export async function hopCostTable(dir: string, options: HopCostOptions): Promise<string> {
  const rows: string[][] = [];
  const TICK_MS = 10; // USER_HZ is 100 on Linux.
  for (const routed of [false, true]) {
    let proc: BackendProcess;
    if (routed) {
      const config = join(dir, 'hop-cost.toml');
      await writeFile(config, `default_runtime = "bench"\ndefault_provider = "none"\n[runtimes.bench]\nargv = ${JSON.stringify(IPYKERNEL)}\n[providers.none]\n`);
      const [node, ...rest] = routerArgv;
      proc = await launch(dir, 'hop-cost-routed', [node!, ...(options.nodeArgs ?? []), ...rest], { env: routerEnv(join(dir, 'hop-cost-home'), config) });
    } else {
      proc = await launch(dir, 'hop-cost-direct', IPYKERNEL);
    }
    const client = new JupyterClient({ connection: proc.connection, channels: ['shell', 'iopub'], replayGuard: false });
    try {
      await waitForReady(client, { timeoutMs: 60_000 });
      for (let i = 0; i < 50; i++) await client.request('kernel_info_request', {});
      const kernelPid = routed ? (await childPids(proc.pid))[0] : proc.pid;
      const pids: [string, number | undefined][] = [['client (bench)', process.pid], ...(routed ? [['router', proc.pid] as [string, number]] : []), ['kernel', kernelPid]];
      for (const [what, once] of [
        ['kernel_info', () => client.request('kernel_info_request', {})],
        ['execute', () => executeCell(client, 'pass')],
      ] as const) {
        const before = await Promise.all(pids.map(([, pid]) => (pid ? sampleProcess(pid) : new Map())));
        const t = performance.now();
        for (let i = 0; i < options.n; i++) await once();
        const ms = (performance.now() - t) / options.n;
        const after = await Promise.all(pids.map(([, pid]) => (pid ? sampleProcess(pid) : new Map())));
        pids.forEach(([name, pid], i) => {
          if (!pid) return;
          for (const [kind, d] of delta(before[i]!, after[i]!, pid)) {
            if (d.switches === 0 && d.cpuTicks === 0) continue;
            rows.push([routed ? 'routed' : 'direct', what, `${name} ${kind}`, ((d.cpuTicks * TICK_MS) / options.n).toFixed(3), (d.switches / options.n).toFixed(1), ms.toFixed(3)]);
          }
        });
      }
    } finally {
      client.close();
      await proc.stop();
    }
  }
  return table(['path', 'request', 'process thread', 'CPU ms / round trip', 'wake-ups / round trip', 'mean round trip (ms)'], rows);
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const d = await mkdtemp(join(tmpdir(), 'llmspell-fleet-hop-'));
  const prof = process.argv.indexOf('--cpu-prof');
  const nodeArgs = prof > 0 ? ['--cpu-prof', `--cpu-prof-dir=${process.argv[prof + 1]}`] : undefined;
  try {
    process.stdout.write((await hopCostTable(d, { n: 2000, nodeArgs })) + '\n');
  } finally {
    await rm(d, { recursive: true, force: true });
  }
}
