/**
 * The Kubernetes launcher (issue #11) against a real kube-apiserver and a real kubelet with
 * containerd: runtimes with launcher = "kubernetes" (examples/kubernetes/fleet.toml, pointed at
 * the locally built ipykernel image and a pod template with nodeName localhost and hostNetwork),
 * the manager authenticating as the ServiceAccount of examples/kubernetes/rbac.yaml. Sessions go
 * through the real router with jupyter_client; the manager is driven over its socket for
 * adoption, cleanup and failures.
 */
import * as k8s from '@kubernetes/client-node';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../src/fleet/config.js';
import { fleetLabel, fleetSelector } from '../../src/fleet/launchers/kube/spec.js';

// What a pod kernel's argv names: the mounted Secret's file, or (curve, the default) its copy.
const POD_KERNEL_ARGV = 'llmspell-fleet/connection.json';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import { requestKernelInfo } from '../../src/fleet/manager/probe.js';
import type { BackendHandle, CleanupReport, ListedBackend, ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { describeRun, makeJupyterEnv, REPO_ROOT, runPython, VENV_PYTHON, type JupyterEnv } from '../helpers/e2e.js';
import { CLI, cli, setupFleet, stopFleetManager } from '../helpers/fleet-env.js';
import { JupyterClient } from '../../src/wire/client.js';
import { readHttpInfo } from '../../src/fleet/manager/http/http-file.js';
import { startKubeCluster, type KubeCluster } from '../helpers/kube-cluster.js';
import { KERNEL_IMAGE, startKubeletNode, type KubeletNode } from '../helpers/kube-kubelet.js';
import { isRunning, processesReferencing, socketRefuses } from '../helpers/processes.js';
import { acquireTimes, median } from '../helpers/start-times.js';

const EXAMPLES = join(REPO_ROOT, 'examples', 'kubernetes');
const NS = 'llmspell-fleet';
// The apiserver reaches the kubelet at the node's name: "localhost" keeps that on loopback.
const NODE = 'localhost';
const PY = { runtime: 'python', provider: 'openai' };
let cluster: KubeCluster | undefined;
let node: KubeletNode | undefined;
let core: k8s.CoreV1Api;
let jenv: JupyterEnv;
let home: string;

const POD_TEMPLATE = `apiVersion: v1
kind: Pod
spec:
  nodeName: ${NODE}
  hostNetwork: true
  containers:
    - name: kernel
      imagePullPolicy: Never
      env:
        - name: POD_NAME
          valueFrom: { fieldRef: { fieldPath: metadata.name } }
        - name: JUPYTER_RUNTIME_DIR
          value: /tmp/jupyter-runtime
`;

/** The example, pointed at this cluster, its image and the template; plus a host runtime and one with a missing image. */
async function fleetToml(kubeconfig: string, template: string): Promise<string> {
  const example = await readFile(join(EXAMPLES, 'fleet.toml'), 'utf8');
  const toml = example
    .replace(/^linger_seconds = .*$/m, 'linger_seconds = 0')
    .replace(/^image = .*$/m, `image = "${KERNEL_IMAGE}"`)
    .replace(/^memory_mb = .*$/m, 'memory_mb = 256')
    .replace(/^cpus = .*$/m, 'cpus = 0.5')
    .replace(/^# pod_template = .*$/m, `pod_template = "${template}"`)
    .replace(/^# kubeconfig = .*$/m, `kubeconfig = "${kubeconfig}"`);
  const runtime = toml.slice(toml.indexOf('[runtimes.python]'), toml.indexOf('[providers.openai]'));
  return [
    toml,
    runtime.replace('[runtimes.python]', '[runtimes.pymissing]').replace(/^image = .*$/m, 'image = "localhost/llmspell-fleet-no-such-image:1"'),
    '[runtimes.pyhost]',
    `argv = ${JSON.stringify([VENV_PYTHON, '-m', 'ipykernel_launcher', '-f', '{connection_file}'])}`,
  ].join('\n');
}

async function fleetObjects(): Promise<{ pods: string[]; secrets: string[] }> {
  const labelSelector = fleetSelector(fleetLabel(home));
  const [pods, secrets] = await Promise.all([core.listNamespacedPod({ namespace: NS, labelSelector }), core.listNamespacedSecret({ namespace: NS, labelSelector })]);
  return { pods: pods.items.map((p) => p.metadata?.name ?? '').sort(), secrets: secrets.items.map((s) => s.metadata?.name ?? '').sort() };
}

const noneLeft = { pods: [], secrets: [] };

beforeAll(async () => {
  cluster = await startKubeCluster({ nodeNames: [NODE] });
  const admin = cluster.adminConfig();
  const objects = async (file: string) => k8s.loadAllYaml(await readFile(join(EXAMPLES, file), 'utf8')) as k8s.KubernetesObject[];
  const api = k8s.KubernetesObjectApi.makeApiClient(admin);
  for (const obj of await objects('namespace.yaml')) await api.create(obj);
  core = admin.makeApiClient(k8s.CoreV1Api);
  // What a controller-manager would create: pods are refused without it.
  await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'default' } } });
  for (const obj of await objects('rbac.yaml')) await api.create(obj);
  const token = await core.createNamespacedServiceAccountToken({ name: 'llmspell-fleet-manager', namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  const managerKubeconfig = await cluster.writeKubeconfig('manager', token.status?.token ?? '');
  node = await startKubeletNode(cluster, NODE);

  jenv = await makeJupyterEnv();
  home = jenv.homeDir;
  const template = join(jenv.dir, 'kernel-pod.yaml');
  await writeFile(template, POD_TEMPLATE, { mode: 0o600 });
  const toml = await fleetToml(managerKubeconfig, template);
  parseFleetConfig(toml, 'kube-launcher fleet.toml');
  await setupFleet(jenv, { toml });
}, 300_000);

afterAll(async () => {
  if (jenv !== undefined) {
    await stopFleetManager(home, 60_000);
    await jenv.cleanup();
  }
  const dir = cluster?.dir;
  await node?.stop();
  await cluster?.stop();
  if (dir !== undefined) expect(await processesReferencing(dir)).toEqual([]);
}, 180_000);

describe('launcher = "kubernetes" with a real kubelet', () => {
  it('the example fleet.toml parses as it is', async () => {
    const config = parseFleetConfig(await readFile(join(EXAMPLES, 'fleet.toml'), 'utf8'), join(EXAMPLES, 'fleet.toml'));
    expect(config.runtimes.python).toMatchObject({ launcher: 'kubernetes', namespace: NS, memory_mb: 2048, cpus: 1 });
  });

  it('runs a shared kernel in a pod through the router: code runs in the pod, a second client shares it, interrupt and restart work, and the pod and Secret go with the last client', async () => {
    const result = await runPython<{ ok: boolean }>('kube_check.py', ['share'], { env: jenv.env, timeoutMs: 400_000 });
    expect(result.result?.ok, describeRun('kube_check share', result)).toBe(true);
    await expect.poll(fleetObjects, { timeout: 60_000, interval: 250 }).toEqual(noneLeft);
    await expect.poll(() => processesReferencing(POD_KERNEL_ARGV), { timeout: 30_000 }).toEqual([]);
  }, 420_000);

  it('memory_mb: a cell allocating past it gets the pod OOMKilled, and the client is told so by the Kubernetes reason', async () => {
    const result = await runPython<{ ok: boolean }>('kube_check.py', ['oom'], { env: jenv.env, timeoutMs: 300_000 });
    expect(result.result?.ok, describeRun('kube_check oom', result)).toBe(true);
    await expect.poll(fleetObjects, { timeout: 60_000, interval: 250 }).toEqual(noneLeft);
  }, 320_000);

  it('a manager SIGKILL leaves stand-in and pod running; the next manager adopts them, logs and list show the pod, cleanup deletes a stray, stop deletes pod and Secret', async () => {
    const first = await ManagerClient.connect({ home, env: jenv.env, autostart: true });
    const manager = await first.request<ManagerInfo>({ op: 'ping' });
    const handle = await first.request<BackendHandle>({ op: 'acquire', requirement: PY, routerId: 'router-1', pid: process.pid });
    const kube = handle.record.kube!;
    expect(kube).toMatchObject({ namespace: NS, pod: `llmspell-${handle.record.kernelId}`, secret: `llmspell-${handle.record.kernelId}-connection`, memoryMb: 256 });
    expect(handle.record.interruptMode).toBe('message');
    expect(await fleetObjects()).toEqual({ pods: [kube.pod], secrets: [kube.secret] });
    const pod = await core.readNamespacedPod({ name: kube.pod, namespace: NS });
    expect(pod.metadata?.labels).toMatchObject({ 'llmspell-fleet/kernel-id': handle.record.kernelId, 'llmspell-fleet/runtime': 'python', 'llmspell-fleet/provider': 'openai' });
    expect(pod.spec?.containers[0]?.resources?.limits).toEqual({ memory: '256Mi', cpu: '500m' });
    expect(JSON.stringify(pod)).not.toContain(handle.connection.key);
    // Curve is on by default for pods: the kernel serves with the pair from the Secret (it reads
    // a writable copy, which ipykernel rewrites), and requestKernelInfo below speaks curve.
    expect(handle.connection.curve_publickey).toMatch(/^.{40}$/);
    expect(JSON.stringify(pod)).not.toContain(handle.connection.curve_publickey);
    expect(pod.spec?.initContainers?.map((c) => c.command)).toEqual([['install', '-m', '600', '/etc/llmspell-fleet/connection.json', '/run/llmspell-fleet/connection.json']]);

    process.kill(manager.pid, 'SIGKILL');
    await first.closed;
    // Its socket must refuse too: a dying manager's other threads hold the listening socket a moment
    // after its pid looks gone, and a client connecting then is cut off when it closes.
    await expect.poll(async () => !(await isRunning(manager.pid)) && (await socketRefuses(join(home, 'manager.sock'))), { timeout: 30_000 }).toBe(true);
    expect(await isRunning(handle.record.pid)).toBe(true);
    expect(await requestKernelInfo(handle.connection, { timeoutMs: 20_000 })).toBeDefined();

    // A pod and Secret with this fleet's label that no backend owns (a crashed run's) are litter.
    const labels = { ...pod.metadata?.labels, 'llmspell-fleet/kernel-id': 'stray' };
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'llmspell-stray-connection', labels } } });
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'llmspell-stray', labels }, spec: { nodeName: 'no-such-node', automountServiceAccountToken: false, containers: [{ name: 'kernel', image: KERNEL_IMAGE }] } } });

    const second = await ManagerClient.connect({ home, env: jenv.env, autostart: true });
    const listed = await second.request<ListedBackend[]>({ op: 'list' });
    expect(listed.map((b) => [b.kernelId, b.pid, b.kube?.pod])).toEqual([[handle.record.kernelId, handle.record.pid, kube.pod]]);
    // The new manager swept the stray at start; cleanup finds nothing more and keeps the adopted pod.
    await expect.poll(fleetObjects, { timeout: 30_000 }).toEqual({ pods: [kube.pod], secrets: [kube.secret] });
    const report = await second.request<CleanupReport>({ op: 'cleanup' });
    expect(report.pods ?? []).toEqual([]);
    const { stdout: table } = await cli(jenv, ['list']);
    expect(table).toContain(`${NS}/${kube.pod}`);
    // The kernel's own output, from the pod's log through the API.
    const { stdout: logs } = await cli(jenv, ['logs', handle.record.kernelId]);
    expect(logs).toMatch(/ipykernel|kernel|Connection file/i);

    await second.request({ op: 'stop', target: handle.record.kernelId });
    await expect.poll(fleetObjects, { timeout: 60_000, interval: 250 }).toEqual(noneLeft);
    expect(await isRunning(handle.record.pid)).toBe(false);
    await expect.poll(() => processesReferencing(POD_KERNEL_ARGV), { timeout: 30_000 }).toEqual([]);
    second.close();
  }, 300_000);

  it('logs -f and the HTTP log stream follow the pod log through the API: what a cell writes reaches both, which end by themselves when the pod ends; list and /metrics show the pod', async () => {
    const client = await ManagerClient.connect({ home, env: jenv.env, autostart: true });
    const handle = await client.request<BackendHandle>({ op: 'acquire', requirement: PY, routerId: 'router-logs', pid: process.pid });
    const id = handle.record.kernelId;
    const listed = JSON.parse((await cli(jenv, ['list', '--json'])).stdout) as Array<{ kernelId: string; podStatus?: unknown; rssBytes?: number }>;
    expect(listed.find((b) => b.kernelId === id)).toMatchObject({ podStatus: { phase: 'Running', restarts: 0, node: NODE } });
    expect(listed.find((b) => b.kernelId === id)?.rssBytes).toBeUndefined();
    const http = await readHttpInfo(home);
    if (http === undefined) throw new Error('the manager wrote no http.json');
    const auth = { authorization: `Bearer ${http.token}` };
    const metrics = await (await fetch(`${http.url}/metrics`, { headers: auth })).text();
    expect(metrics).toMatch(new RegExp(`llmspell_fleet_backend_pod_restarts\\{[^}]*kernel_id="${id}"[^}]*\\} 0`));
    // The stand-in's memory is not the kernel's: a pod backend has none without metrics-server.
    expect(metrics).not.toMatch(new RegExp(`llmspell_fleet_backend_resident_memory_bytes\\{[^}]*kernel_id="${id}"`));
    const stream = await fetch(`${http.url}/api/v1/backends/${id}/logs?follow=1&tail=100`, { headers: { ...auth, accept: 'text/event-stream' } });
    expect(stream.status).toBe(200);
    let sse = '';
    const streamEnded = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stream.body!) sse += decoder.decode(chunk as Uint8Array, { stream: true });
    })();
    const follower = spawn(process.execPath, [CLI, 'logs', '-f', '-n', '100', handle.record.kernelId], { env: jenv.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(follower, 'exit');
    let out = '';
    let err = '';
    follower.stdout.on('data', (d: Buffer) => (out += d.toString()));
    follower.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const kernel = new JupyterClient({ connection: handle.connection, channels: ['shell'] });
    // The kernel's fd 2 is the container's stderr (capture_fd_output=False), so the pod's log.
    const cell = async (line: string) =>
      kernel.request('execute_request', { code: `import os; os.write(2, b"${line}\\n")`, silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true }, { timeoutMs: 30_000 });
    try {
      await cell('fleet-follow-first');
      await expect.poll(() => out, { timeout: 60_000 }).toContain('fleet-follow-first');
      // The follower printed the first line, so it was following before this cell ran.
      await cell('fleet-follow-second');
      await expect.poll(() => out, { timeout: 60_000 }).toContain('fleet-follow-second');
      await expect.poll(() => sse, { timeout: 60_000 }).toContain('data: "fleet-follow-second"');
      await client.request({ op: 'stop', target: id });
      const [code] = await exited;
      expect(code, err).toBe(0);
      await streamEnded;
      expect(sse).toContain('event: end');
    } finally {
      kernel.close();
      if (follower.exitCode === null) follower.kill('SIGKILL');
      client.close();
    }
    await expect.poll(fleetObjects, { timeout: 60_000, interval: 250 }).toEqual(noneLeft);
  }, 180_000);

  it('a pod deleted from outside ends its backend, and list says so by reason', async () => {
    const client = await ManagerClient.connect({ home, env: jenv.env, autostart: true });
    const handle = await client.request<BackendHandle>({ op: 'acquire', requirement: PY, routerId: 'router-2', pid: process.pid });
    await core.deleteNamespacedPod({ name: handle.record.kube!.pod, namespace: NS, gracePeriodSeconds: 0 });
    await expect.poll(async () => (await client.request<ListedBackend[]>({ op: 'list' })).find((b) => b.kernelId === handle.record.kernelId)?.lastExit?.reason, { timeout: 60_000 }).toBe('deleted');
    expect(await isRunning(handle.record.pid)).toBe(false);
    await expect.poll(fleetObjects, { timeout: 60_000, interval: 250 }).toEqual(noneLeft);
    client.close();
  }, 180_000);

  it('a missing image is a SPAWN_FAILED naming ErrImageNeverPull and the image; nothing is left', async () => {
    const client = await ManagerClient.connect({ home, env: jenv.env, autostart: true });
    const error = await client.request({ op: 'acquire', requirement: { runtime: 'pymissing', provider: 'openai' }, routerId: 'router-3', pid: process.pid }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SPAWN_FAILED' });
    expect((error as Error).message).toMatch(/image localhost\/llmspell-fleet-no-such-image:1 .*\((ErrImageNeverPull|ErrImagePull|ImagePullBackOff)\)/);
    await expect.poll(fleetObjects, { timeout: 60_000, interval: 250 }).toEqual(noneLeft);
    client.close();
  }, 180_000);

  it('start time: a pod backend against a process backend, the same ipykernel, median of 3 each (figures in the log)', async () => {
    const client = await ManagerClient.connect({ home, env: jenv.env, autostart: true });
    const times = await acquireTimes(client, ['pyhost', 'python'], 3);
    const figures = { processMs: Math.round(median(times.pyhost)), podMs: Math.round(median(times.python)), samples: times };
    console.log(`[kube] pod backend start against a process backend: ${JSON.stringify(figures)}`);
    expect(figures.podMs).toBeGreaterThan(0);
    await expect.poll(fleetObjects, { timeout: 60_000, interval: 250 }).toEqual(noneLeft);
    client.close();
  }, 300_000);
});
