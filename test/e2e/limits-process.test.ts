/**
 * Resource limits on real ipykernel backends in real cgroups (this host: cgroup v1), through
 * the router as Jupyter starts it and the project's wire client: memory_mb kills with its own
 * message after one warning in the running cell, pids stops a fork loop, cpus holds a busy loop
 * near its share (measured from the cgroup's own cpuacct), cpu_seconds stops the backend, the
 * cgroups go when the backends do, and an adopted backend keeps all of it. Every cgroup is made
 * under a parent named for this test run and removed in afterAll.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import type { ListedBackend, ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { probeCgroups } from '../../src/fleet/limits/cgroup.js';
import { parseProcCgroup } from '../../src/fleet/limits/cgroup-layout.js';
import { VENV_PYTHON, withJupyterEnv, type JupyterEnv } from '../helpers/e2e.js';
import { CLI, writeClientConnectionFile } from '../helpers/fleet-env.js';
import { TestClient, shutdown, track, within, type Proc, type Received } from '../helpers/relay.js';

const PARENT = `llmspell-fleet-test-limits-${process.pid}`;
const IPYKERNEL = JSON.stringify([VENV_PYTHON, '-m', 'ipykernel_launcher', '-f', '{connection_file}']);

const TOML = [
  'default_runtime = "capped"',
  'default_provider = "none"',
  'linger_seconds = 0',
  '[runtimes.capped]', `argv = ${IPYKERNEL}`, 'memory_mb = 200',
  '[runtimes.free]', `argv = ${IPYKERNEL}`,
  '[runtimes.forky]', `argv = ${IPYKERNEL}`, 'pids = 40',
  '[runtimes.halfcore]', `argv = ${IPYKERNEL}`, 'cpus = 0.5',
  '[runtimes.shortcpu]', `argv = ${IPYKERNEL}`, 'cpu_seconds = 5',
  '[providers.none]',
  '',
].join('\n');

/** This test run's parent cgroup directory in each v1 hierarchy (what the manager makes below its own cgroup). */
function parentDirs(): string[] {
  const own = parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8')).v1;
  return ['memory', 'cpu', 'cpuacct', 'pids'].map((c) => join('/sys/fs/cgroup', c, own[c] ?? '/', PARENT));
}

function cgroupDir(controller: 'memory' | 'cpuacct' | 'pids', kernelId: string): string {
  return join(parentDirs()[['memory', 'cpu', 'cpuacct', 'pids'].indexOf(controller)]!, kernelId);
}

afterAll(() => {
  // Anything a failed test left: its processes killed, its cgroups removed, then the parent.
  for (const parent of parentDirs()) {
    if (!existsSync(parent)) continue;
    for (const child of readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory())) {
      const dir = join(parent, child.name);
      for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try {
          process.kill(Number(pid), 'SIGKILL');
        } catch {
          // gone
        }
      }
      for (let i = 0; i < 100; i++) {
        try {
          rmdirSync(dir);
          break;
        } catch {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        }
      }
    }
    rmdirSync(parent);
  }
});

interface Routed {
  router: Proc;
  client: TestClient;
}

async function startRouter(jenv: JupyterEnv, runtime: string): Promise<Routed> {
  const config = join(jenv.dir, 'fleet.toml');
  if (!existsSync(config)) await writeFile(config, TOML);
  const { file, info } = await writeClientConnectionFile(jenv, runtime);
  const env: NodeJS.ProcessEnv = { ...jenv.env, LLMSPELL_FLEET_CONFIG: config, LLMSPELL_FLEET_CGROUP_PARENT: PARENT, JPY_PARENT_PID: String(process.pid) };
  delete env.LLMSPELL_FLEET_MODE;
  const child = spawn(process.execPath, [CLI, 'router', '--connection-file', file, '--runtime', runtime, '--provider', 'none'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const router = track(child, info);
  const client = new TestClient(info);
  await client.waitReady(90_000);
  return { router, client };
}

async function manager(jenv: JupyterEnv): Promise<ManagerClient> {
  return ManagerClient.connect({ home: jenv.homeDir, autostart: false });
}

async function backendOf(jenv: JupyterEnv, runtime: string): Promise<ListedBackend> {
  const m = await manager(jenv);
  try {
    const found = (await m.request<ListedBackend[]>({ op: 'list' })).find((b) => b.requirement.runtime === runtime && b.state !== 'dead');
    if (found === undefined) throw new Error(`no running ${runtime} backend`);
    return found;
  } finally {
    m.close();
  }
}

/** Every stream text of one cell, in order, as it arrives. */
function cellStreams(client: TestClient, msgId: string): { texts: Received[]; next(match: (text: string) => boolean, what: string): Promise<string> } {
  const texts: Received[] = [];
  const waiters: { match: (t: string) => boolean; resolve: (t: string) => void }[] = [];
  client.onIopub((r) => {
    if (r.msg.msgType !== 'stream' || r.msg.parentHeader.msg_id !== msgId) return;
    texts.push(r);
    const text = r.msg.content<{ text: string }>().text;
    for (const w of [...waiters]) if (w.match(text)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(text);
    }
  });
  return {
    texts,
    next: (match, what) => {
      const seen = texts.map((r) => r.msg.content<{ text: string }>().text).find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return within(new Promise<string>((resolve) => waiters.push({ match, resolve })), 90_000, what);
    },
  };
}

const textOf = (r: Received) => r.msg.content<{ text: string }>().text;

/** A cell that allocates until its cgroup holds 93 % of 200 MB, waits for `go`, then allocates past the limit. */
function allocatingCell(go: string): string {
  return [
    'import os, time',
    "cg = [l.split(':', 2)[2] for l in open('/proc/self/cgroup').read().splitlines() if l.split(':')[1] == 'memory'][0]",
    "usage = lambda: int(open('/sys/fs/cgroup/memory' + cg + '/memory.usage_in_bytes').read())",
    'blocks = []',
    'while usage() < 0.93 * 200 * 2**20:',
    "    blocks.append(b'\\x01' * (4 * 2**20))",
    "print('holding', usage() // 2**20, 'MB', flush=True)",
    `while not os.path.exists(${JSON.stringify(go)}): time.sleep(0.05)`,
    'while True:',
    "    blocks.append(b'\\x01' * (16 * 2**20))",
  ].join('\n');
}

/** The memory story on `capped`: one warning in the cell, then the kill told by its reason; its cgroup gone. */
async function memoryKill(jenv: JupyterEnv, capped: Routed, kernelId: string): Promise<void> {
  const go = join(jenv.dir, `go-${kernelId}`);
  const { msgId, reply } = capped.client.execute(allocatingCell(go));
  const streams = cellStreams(capped.client, msgId);
  const warning = await streams.next((t) => t.includes('memory limit') && t.includes('Save your work'), 'the memory warning in the cell');
  expect(warning).toMatch(/uses \d+ MB of its 200 MB memory limit/);
  const holding = await streams.next((t) => t.startsWith('holding'), 'the cell to hold its memory');
  console.log(`[limits] memory_mb = 200: warned "${warning.trim()}"; the cell was ${holding.trim()}`);
  await writeFile(go, '');
  const answer = await within(reply, 90_000, 'the reply to the cell the backend died in');
  const content = answer.msg.content<{ status: string; evalue?: string }>();
  expect(content.status).toBe('error');
  expect(content.evalue).toContain('was killed: memory limit 200 MB reached');
  expect(streams.texts.filter((r) => textOf(r).includes('Save your work')), 'exactly one warning in the cell').toHaveLength(1);
  // Removed before the death is told: nothing of it is left in any hierarchy.
  for (const c of ['memory', 'cpuacct', 'pids'] as const) expect(existsSync(cgroupDir(c, kernelId)), `${c} cgroup of ${kernelId}`).toBe(false);
}

async function close(...routed: Routed[]): Promise<void> {
  for (const r of routed) await shutdown(r.client, r.router, 'router', true);
}

describe('resource limits on process backends (cgroup v1)', () => {
  it('kills a backend past memory_mb with its own message after one warning in the running cell; another runtime is untouched', async () => {
    await withJupyterEnv(async (jenv) => {
      const capped = await startRouter(jenv, 'capped');
      const free = await startRouter(jenv, 'free');
      try {
        const victim = await backendOf(jenv, 'capped');
        const bystander = await backendOf(jenv, 'free');
        expect(victim.enforcedBy).toBe('cgroup-v1');
        expect(readFileSync(join(cgroupDir('memory', victim.kernelId), 'memory.limit_in_bytes'), 'utf8').trim()).toBe(String(200 * 2 ** 20));
        expect(readFileSync(join(cgroupDir('memory', victim.kernelId), 'cgroup.procs'), 'utf8')).toContain(String(victim.pid));
        // Every client is told, on stderr, why (not "killed by SIGKILL").
        const told = capped.client.nextIopub((m) => m.msgType === 'stream' && m.content<{ text: string }>().text.includes('memory limit 200 MB reached.'));
        await memoryKill(jenv, capped, victim.kernelId);
        expect(textOf(await within(told, 30_000, 'the exit notice'))).toContain('was killed: memory limit 200 MB reached. Its state is lost');
        // Counted by its reason in the manager's Prometheus metrics.
        const http = JSON.parse(readFileSync(join(jenv.homeDir, 'http.json'), 'utf8')) as { url: string };
        const metrics = await (await fetch(new URL('/metrics', http.url))).text();
        expect(metrics).toMatch(/^llmspell_fleet_backend_exits_total\{reason="memory-limit"\} 1$/m);
        const { reply } = free.client.execute('print(6 * 7)');
        expect((await within(reply, 30_000, 'the free backend to answer')).msg.content<{ status: string }>().status).toBe('ok');
        expect((await backendOf(jenv, 'free')).pid).toBe(bystander.pid);
      } finally {
        await close(capped, free);
      }
    });
  });

  it('stops a fork loop at pids, tells the cell, and the kernel survives', async () => {
    await withJupyterEnv(async (jenv) => {
      const forky = await startRouter(jenv, 'forky');
      try {
        const backend = await backendOf(jenv, 'forky');
        const go = join(jenv.dir, 'go-forks');
        const code = [
          'import os, time, signal',
          'kids = []',
          'try:',
          '    while True:',
          '        pid = os.fork()',
          '        if pid == 0:',
          '            time.sleep(120); os._exit(0)',
          '        kids.append(pid)',
          'except OSError as e:',
          "    print('refused after', len(kids), type(e).__name__, flush=True)",
          `while not os.path.exists(${JSON.stringify(go)}): time.sleep(0.05)`,
          'for k in kids:',
          '    os.kill(k, signal.SIGKILL); os.waitpid(k, 0)',
          "print('reaped', len(kids))",
        ].join('\n');
        const { msgId, reply } = forky.client.execute(code);
        const streams = cellStreams(forky.client, msgId);
        const refused = await streams.next((t) => t.startsWith('refused after'), 'the fork loop to be refused');
        const pidsDir = cgroupDir('pids', backend.kernelId);
        const current = Number(readFileSync(join(pidsDir, 'pids.current'), 'utf8'));
        console.log(`[limits] pids = 40: ${refused.trim()}; pids.current ${current}`);
        expect(current).toBeLessThanOrEqual(40);
        expect(Number(/refused after (\d+)/.exec(refused)![1])).toBeLessThan(40);
        expect(readFileSync(join(pidsDir, 'pids.events'), 'utf8')).toMatch(/max [1-9]/);
        await streams.next((t) => t.includes('process limit (pids 40)'), 'the pids notice in the cell');
        await writeFile(go, '');
        expect((await within(reply, 60_000, 'the fork cell to finish')).msg.content<{ status: string }>().status).toBe('ok');
        expect((await backendOf(jenv, 'forky')).pid).toBe(backend.pid);
      } finally {
        await close(forky);
      }
    });
  });

  it('holds a busy loop near cpus = 0.5, by the cgroup’s own accounting', async () => {
    await withJupyterEnv(async (jenv) => {
      const half = await startRouter(jenv, 'halfcore');
      try {
        const backend = await backendOf(jenv, 'halfcore');
        const stop = join(jenv.dir, 'stop-loop');
        const { msgId, reply } = half.client.execute(`import os\nprint('looping', flush=True)\nwhile not os.path.exists(${JSON.stringify(stop)}): pass`);
        await cellStreams(half.client, msgId).next((t) => t.startsWith('looping'), 'the loop to start');
        const usage = () => Number(readFileSync(join(cgroupDir('cpuacct', backend.kernelId), 'cpuacct.usage'), 'utf8'));
        const cpu0 = usage();
        const wall0 = process.hrtime.bigint();
        // A measuring window, not a wait for something to happen: the loop runs until told to stop.
        await new Promise((r) => setTimeout(r, 4000));
        const ratio = (usage() - cpu0) / Number(process.hrtime.bigint() - wall0);
        await writeFile(stop, '');
        await within(reply, 30_000, 'the loop to stop');
        console.log(`[limits] cpus = 0.5: the busy loop used ${ratio.toFixed(3)} of a core over 4 s`);
        // The quota is a ceiling (50 ms per 100 ms period); a loaded machine may give it less.
        expect(ratio).toBeLessThanOrEqual(0.6);
        expect(ratio).toBeGreaterThan(0.15);
      } finally {
        await close(half);
      }
    });
  });

  it('stops a backend that used up cpu_seconds and says so', async () => {
    await withJupyterEnv(async (jenv) => {
      const short = await startRouter(jenv, 'shortcpu');
      try {
        const backend = await backendOf(jenv, 'shortcpu');
        const { reply } = short.client.execute('while True: pass');
        const answer = (await within(reply, 90_000, 'the reply to the looping cell')).msg.content<{ status: string; evalue?: string }>();
        expect(answer.status).toBe('error');
        expect(answer.evalue).toContain('was stopped: cpu time limit 5 s used up');
        expect(existsSync(cgroupDir('cpuacct', backend.kernelId))).toBe(false);
      } finally {
        await close(short);
      }
    });
  });

  it('removes the cgroup of a backend that died while no manager ran, when the next manager starts', async () => {
    await withJupyterEnv(async (jenv) => {
      const config = join(jenv.dir, 'fleet.toml');
      await writeFile(config, TOML);
      const env = { ...jenv.env, LLMSPELL_FLEET_CONFIG: config, LLMSPELL_FLEET_CGROUP_PARENT: PARENT };
      const first = await ManagerClient.connect({ home: jenv.homeDir, env });
      // Acquired, so that linger (0 here) does not stop it: this connection is its router's lease.
      const handle = await first.request<{ record: ListedBackend }>({ op: 'acquire', requirement: { runtime: 'capped', provider: 'none' }, routerId: 'r1', pid: process.pid });
      const { kernelId, pid } = handle.record;
      expect(existsSync(cgroupDir('memory', kernelId))).toBe(true);
      const managerPid = (await first.request<ManagerInfo>({ op: 'ping' })).pid;
      process.kill(managerPid, 'SIGKILL');
      await first.closed;
      process.kill(-pid, 'SIGKILL');
      const deadline = Date.now() + 30_000;
      while (readFileSync(join(cgroupDir('memory', kernelId), 'cgroup.procs'), 'utf8').trim() !== '') {
        if (Date.now() > deadline) throw new Error('the killed backend is still in its cgroup');
        await new Promise((r) => setTimeout(r, 50));
      }
      // The next manager forgets the dead backend, and its cgroup with it.
      const next = await ManagerClient.connect({ home: jenv.homeDir, env });
      expect((await next.request<ManagerInfo>({ op: 'ping' })).pid).not.toBe(managerPid);
      for (const c of ['memory', 'cpuacct', 'pids'] as const) expect(existsSync(cgroupDir(c, kernelId)), `${c} cgroup of ${kernelId}`).toBe(false);
      next.close();
    });
  });

  it('keeps enforcing after a manager restart: the adopted backend is warned and its death told by reason', async () => {
    await withJupyterEnv(async (jenv) => {
      const capped = await startRouter(jenv, 'capped');
      try {
        const backend = await backendOf(jenv, 'capped');
        const m = await manager(jenv);
        const first = await m.request<ManagerInfo>({ op: 'ping' });
        m.close();
        process.kill(first.pid, 'SIGKILL');
        // The router reconnects (autostarting a manager that adopts the backend) and re-attaches.
        const deadline = Date.now() + 60_000;
        for (;;) {
          const next = await manager(jenv).catch(() => undefined);
          const listed = next === undefined ? [] : await next.request<ListedBackend[]>({ op: 'list' }).catch(() => []);
          const pid = next === undefined ? undefined : (await next.request<ManagerInfo>({ op: 'ping' }).catch(() => undefined))?.pid;
          next?.close();
          const adopted = listed.find((b) => b.kernelId === backend.kernelId);
          if (pid !== undefined && pid !== first.pid && adopted !== undefined && adopted.attached.length > 0) {
            expect(adopted.enforcedBy).toBe('cgroup-v1');
            break;
          }
          if (Date.now() > deadline) throw new Error('no new manager adopted the backend with its router attached');
          await new Promise((r) => setTimeout(r, 100));
        }
        await memoryKill(jenv, capped, backend.kernelId);
      } finally {
        await close(capped);
      }
    });
  });
});
