/**
 * Container backends (issue #10): real podman containers from the locally built image
 * localhost/llmspell-fleet-test-ipykernel (scripts/setup-containers.sh), ipykernel inside,
 * through the real router and manager. Every container here carries the test home's label;
 * afterEach removes any that a failing test left.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LABEL_HOME, LABEL_KERNEL_ID } from '../../src/fleet/launchers/container-argv.js';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import { requestKernelInfo } from '../../src/fleet/manager/probe.js';
import type { BackendHandle, CleanupReport, ListedBackend, ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { Z85_KEY } from '../../src/wire/curve.js';
import { describeRun, makeJupyterEnv, REPO_ROOT, runPython, type JupyterEnv } from '../helpers/e2e.js';
import { cli, setupFleet, stopFleetManager } from '../helpers/fleet-env.js';
import { isRunning } from '../helpers/processes.js';
import { listeningAddresses } from '../helpers/listening.js';
import { acquireTimes, median } from '../helpers/start-times.js';
import { JupyterClient } from '../../src/wire/client.js';
import { executeCell } from '../../src/wire/execute.js';
import { waitForReady } from '../../src/wire/ready.js';

const run = promisify(execFile);
const IMAGE = 'localhost/llmspell-fleet-test-ipykernel';
const PYC = { runtime: 'pyc', provider: 'openai' };
const KERNEL_ARGV = JSON.stringify(['python', '-m', 'ipykernel_launcher', '-f', '{connection_file}']);
const HOST_ARGV = JSON.stringify([join(REPO_ROOT, '.venv', 'bin', 'python'), '-m', 'ipykernel_launcher', '-f', '{connection_file}']);

function toml(): string {
  return [
    'default_runtime = "pyc"',
    'default_provider = "openai"',
    'linger_seconds = 0',
    '[runtimes.pyc]',
    `argv = ${KERNEL_ARGV}`,
    'launcher = "container"',
    `image = "${IMAGE}"`,
    'container_engine = "podman"',
    'cpus = 1.5',
    'pids = 256',
    '[runtimes.pyoom]',
    `argv = ${KERNEL_ARGV}`,
    'launcher = "container"',
    `image = "${IMAGE}"`,
    'memory_mb = 128',
    '[runtimes.pyccurve]',
    `argv = ${KERNEL_ARGV}`,
    'launcher = "container"',
    `image = "${IMAGE}"`,
    'curve = true',
    '[runtimes.pyhost]',
    `argv = ${HOST_ARGV}`,
    '[providers.openai]',
  ].join('\n');
}

/** This test home's containers: name and state. */
async function containers(home: string): Promise<{ name: string; state: string }[]> {
  const { stdout } = await run('podman', ['ps', '--all', '--filter', `label=${LABEL_HOME}=${home}`, '--format', '{{.Names}} {{.State}}']);
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [name = '', state = ''] = l.trim().split(/\s+/);
      return { name, state: state.toLowerCase() };
    });
}

async function until(check: () => Promise<boolean>, what: string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let jenv: JupyterEnv;
let home: string;

describe('container backends (podman)', () => {
  beforeAll(async () => {
    // setup.sh builds it (scripts/setup-containers.sh); without it nothing here can run.
    await run('podman', ['image', 'exists', IMAGE]).catch(() => {
      throw new Error(`image ${IMAGE} is missing: run scripts/setup-containers.sh`);
    });
  });

  beforeEach(async () => {
    jenv = await makeJupyterEnv();
    home = jenv.homeDir;
    await setupFleet(jenv, { toml: toml() });
  });

  afterEach(async () => {
    await stopFleetManager(home);
    for (const c of await containers(home)) await run('podman', ['rm', '--force', c.name]).catch(() => undefined);
    await jenv.cleanup();
  });

  it('runs a shared ipykernel in a container through the router, interrupts it, and removes the container when the last client leaves', async () => {
    const result = await runPython<{ ok: boolean }>('container_check.py', ['share'], { env: jenv.env, timeoutMs: 300_000 });
    expect(result.result?.ok, describeRun('container_check share', result)).toBe(true);
    // linger 0: the backend stopped with its last client, and its container is gone with it.
    await until(async () => (await containers(home)).length === 0, 'the container to be removed');
  }, 320_000);

  it('limits as engine flags; a manager SIGKILL leaves the container running; the next manager adopts it, stop removes it, cleanup removes strays', async () => {
    const first = await ManagerClient.connect({ home, env: jenv.env, autostart: true });
    const manager = await first.request<ManagerInfo>({ op: 'ping' });
    // Attached (linger is 0: an unattached backend would stop at once).
    const handle = await first.request<BackendHandle>({ op: 'acquire', requirement: PYC, routerId: 'router-1', pid: process.pid });
    const name = handle.record.container?.name;
    expect(handle.record.container).toMatchObject({ engine: 'podman', name: `llmspell-fleet-${handle.record.kernelId}` });
    expect(await containers(home)).toEqual([{ name, state: 'up' }]);
    const { stdout: label } = await run('podman', ['inspect', '--format', `{{index .Config.Labels "${LABEL_KERNEL_ID}"}}`, name as string]);
    expect(label.trim()).toBe(handle.record.kernelId);
    // The limits as the engine applied them.
    const { stdout: limits } = await run('podman', ['inspect', '--format', '{{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}}', name as string]);
    expect(limits.trim()).toBe('1500000000 256');
    // Host network: the kernel bound exactly the loopback ports of the file the router wrote, nothing wider.
    const { ip, shell_port, iopub_port, stdin_port, control_port, hb_port } = handle.connection;
    expect(ip).toBe('127.0.0.1');
    for (const port of [shell_port, iopub_port, stdin_port, control_port, hb_port]) expect(listeningAddresses(port), `port ${port}`).toEqual(['127.0.0.1']);

    process.kill(manager.pid, 'SIGKILL');
    await first.closed;
    await until(async () => !(await isRunning(manager.pid)), 'the killed manager to be gone');
    expect(await isRunning(handle.record.pid)).toBe(true);
    expect(await requestKernelInfo(handle.connection, { timeoutMs: 10_000 })).toBeDefined();

    const second = await ManagerClient.connect({ home, env: jenv.env, autostart: true });
    const listed = await second.request<ListedBackend[]>({ op: 'list' });
    expect(listed.map((b) => [b.kernelId, b.pid, b.container?.name])).toEqual([[handle.record.kernelId, handle.record.pid, name]]);
    // What the kernel writes to its stderr inside the container reaches `logs`, also after adoption.
    const marker = `written-inside-${handle.record.kernelId}`;
    const kernel = new JupyterClient({ connection: handle.connection });
    try {
      // Ready on iopub too, else the cell's idle status can be published before the subscription joins.
      await waitForReady(kernel, { timeoutMs: 60_000 });
      const reply = await executeCell(kernel, `import os\nos.write(2, b'${marker}\\n')`, { timeoutMs: 60_000 });
      expect(reply.content<{ status: string }>().status).toBe('ok');
    } finally {
      kernel.close();
    }
    let logs = '';
    await until(async () => (logs = (await cli(jenv, ['logs', handle.record.kernelId])).stdout).includes(marker), 'the container\'s stderr in `logs`');
    expect(logs).toContain('starting pyc/openai backend');

    // A container with this fleet's label that no backend owns (left by a crashed run) is litter.
    await run('podman', ['create', '--name', 'lf-test-stray', '--label', `${LABEL_HOME}=${home}`, IMAGE, 'true']);
    const report = await second.request<CleanupReport>({ op: 'cleanup' });
    expect(report.containers).toEqual(['podman:lf-test-stray']);
    expect(await containers(home)).toEqual([{ name, state: 'up' }]);

    await second.request({ op: 'stop', target: handle.record.kernelId });
    await until(async () => (await containers(home)).length === 0, 'stop to remove the container');
    second.close();
  }, 240_000);

  it('curve = true: the kernel in the container reads its own copy of the connection file with the pair, and answers a curve client', async () => {
    const client = await ManagerClient.connect({ home, env: jenv.env, autostart: true });
    const handle = await client.request<BackendHandle>({ op: 'acquire', requirement: { runtime: 'pyccurve', provider: 'openai' }, routerId: 'router-curve', pid: process.pid });
    expect(handle.record.container?.engine).toBe('podman');
    expect(handle.connection.curve_publickey).toMatch(Z85_KEY);
    // A curve client only completes its handshake with a curve server holding the matching secret key.
    expect(await requestKernelInfo(handle.connection, { timeoutMs: 30_000 })).toMatchObject({ status: 'ok', implementation: 'ipython' });
    await client.request({ op: 'stop', target: handle.record.kernelId });
    await until(async () => (await containers(home)).length === 0, 'stop to remove the container');
    // The kernel's own copy of its connection file (ipykernel rewrites one with curve keys) goes with it.
    await until(async () => !existsSync(join(home, 'backends', `${handle.record.kernelId}.d`)), "the kernel's connection file copy to be removed");
    client.close();
  }, 120_000);

  it('memory_mb: a cell allocating past it ends the container, and the client is told it was the memory limit', async () => {
    await cli(jenv, ['install', '--prefix', jenv.dir, '--runtime', 'pyoom', '--provider', 'openai']);
    const result = await runPython<{ ok: boolean }>('container_check.py', ['oom'], { env: jenv.env, timeoutMs: 300_000 });
    expect(result.result?.ok, describeRun('container_check oom', result)).toBe(true);
    await until(async () => (await containers(home)).length === 0, 'the killed container to be removed');
  }, 320_000);

  it('memory_mb: the running cell is warned once before the limit (the cgroup above the container), then killed by it', async () => {
    await cli(jenv, ['install', '--prefix', jenv.dir, '--runtime', 'pyoom', '--provider', 'openai']);
    const result = await runPython<{ ok: boolean }>('container_check.py', ['warn'], { env: jenv.env, timeoutMs: 400_000 });
    expect(result.result?.ok, describeRun('container_check warn', result)).toBe(true);
    await until(async () => (await containers(home)).length === 0, 'the killed container to be removed');
  }, 420_000);

  it('start time: container against process, the same ipykernel, median of 5 each (figures in the log)', async () => {
    const client = await ManagerClient.connect({ home, env: jenv.env, autostart: true });
    const times = await acquireTimes(client, ['pyhost', 'pyc'], 5);
    const figures = { processMs: Math.round(median(times.pyhost)), containerMs: Math.round(median(times.pyc)), samples: times };
    console.log(`container start overhead: ${JSON.stringify(figures)}`);
    expect(figures.containerMs).toBeGreaterThan(0);
    expect(await containers(home)).toEqual([]);
    client.close();
  }, 300_000);
});
