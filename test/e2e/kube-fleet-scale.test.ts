/**
 * The Kubernetes launcher at scale (issue #11), against a real kube-apiserver with kwok: 200 pod
 * backends spawned through the manager (each its own group, 8 requests in flight), listed,
 * adopted by a new manager after a SIGKILL (with a stray labelled pod and Secret swept at its
 * start), and stopped. kwok runs no process, so kwok-kernels.ts answers for the kernels at the
 * addresses in their Secrets. The manager's time per operation is printed ("[kube-scale]").
 */
import * as k8s from '@kubernetes/client-node';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetLabel, fleetSelector } from '../../src/fleet/launchers/kube/spec.js';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import type { BackendRecord, ListedBackend, ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { makeJupyterEnv, type JupyterEnv } from '../helpers/e2e.js';
import { stopFleetManager } from '../helpers/fleet-env.js';
import type { KubeCluster } from '../helpers/kube-cluster.js';
import { inParallel, startKwokCluster, stopKwokCluster, type Kwok } from '../helpers/kube-kwok.js';
import { startKwokKernels, type KwokKernels } from '../helpers/kwok-kernels.js';
import { isRunning, socketRefuses } from '../helpers/processes.js';

const NS = 'llmspell-scale';
const NODE = 'kwok-node-0';
const BACKENDS = 200;
const IN_FLIGHT = 8;
let cluster: KubeCluster | undefined;
let kwok: Kwok | undefined;
let kernels: KwokKernels | undefined;
let jenv: JupyterEnv | undefined;
let core: k8s.CoreV1Api;
let home: string;

beforeAll(async () => {
  ({ cluster, kwok } = await startKwokCluster(NS, NODE));
  core = cluster.adminConfig().makeApiClient(k8s.CoreV1Api);
  jenv = await makeJupyterEnv();
  home = jenv.homeDir;
  const template = join(jenv.dir, 'kwok-pod.json');
  await writeFile(template, JSON.stringify({ kind: 'Pod', spec: { nodeName: NODE, hostNetwork: true } }), { mode: 0o600 });
  await writeFile(join(home, 'fleet.toml'), [
    'default_runtime = "kwok"',
    'default_provider = "openai"',
    'linger_seconds = 3600',
    '[runtimes.kwok]',
    'argv = ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]',
    'launcher = "kubernetes"',
    'image = "localhost/kwok-runs-nothing:1"',
    `namespace = "${NS}"`,
    `kubeconfig = "${cluster.kubeconfigPath}"`,
    `pod_template = "${template}"`,
    'startup_timeout = 120',
    '[providers.openai]',
  ].join('\n'), { mode: 0o600 });
  kernels = await startKwokKernels(cluster.adminConfig(), NS, fleetSelector(fleetLabel(home)));
}, 180_000);

afterAll(async () => {
  if (jenv !== undefined) {
    await stopFleetManager(home, 120_000);
    await jenv.cleanup();
  }
  await kernels?.stop();
  expect(await stopKwokCluster({ cluster, kwok })).toEqual([]);
}, 240_000);

async function fleetObjects(): Promise<{ pods: number; secrets: number }> {
  const labelSelector = fleetSelector(fleetLabel(home));
  const [pods, secrets] = await Promise.all([core.listNamespacedPod({ namespace: NS, labelSelector }), core.listNamespacedSecret({ namespace: NS, labelSelector })]);
  return { pods: pods.items.length, secrets: secrets.items.length };
}

const per = (ms: number, n: number): string => `${ms} ms (${(ms / n).toFixed(1)} ms each)`;

describe('pod backends at scale on kwok', () => {
  it(`spawns ${BACKENDS} through the manager, lists them, adopts them after a manager SIGKILL, sweeps a stray, stops them`, async () => {
    const first = await ManagerClient.connect({ home, env: jenv!.env, autostart: true });
    const manager = await first.request<ManagerInfo>({ op: 'ping' });
    const spawned: BackendRecord[] = [];
    let t0 = performance.now();
    await inParallel([...Array(BACKENDS).keys()], IN_FLIGHT, async (i) => {
      const handle = await first.request<{ record: BackendRecord }>({ op: 'spawn', requirement: { runtime: 'kwok', provider: 'openai', group: `g${i}` } });
      spawned.push(handle.record);
    });
    const spawnMs = Math.round(performance.now() - t0);
    console.log(`[kube-scale] spawn ${BACKENDS} pod backends, ${IN_FLIGHT} in flight: ${per(spawnMs, BACKENDS)}`);
    expect(new Set(spawned.map((r) => r.kube?.pod)).size).toBe(BACKENDS);
    expect(await fleetObjects()).toEqual({ pods: BACKENDS, secrets: BACKENDS });

    t0 = performance.now();
    const listed = await first.request<ListedBackend[]>({ op: 'list' });
    console.log(`[kube-scale] list ${listed.length} backends: ${Math.round(performance.now() - t0)} ms`);
    expect(listed.filter((b) => b.kube !== undefined && b.state !== 'dead')).toHaveLength(BACKENDS);
    expect(listed.every((b) => b.rssBytes === undefined)).toBe(true);

    process.kill(manager.pid, 'SIGKILL');
    await first.closed;
    // Its socket must refuse too: a dying manager's other threads hold the listening socket a moment
    // after its pid looks gone, and a client connecting then is cut off when it closes.
    await expect.poll(async () => !(await isRunning(manager.pid)) && (await socketRefuses(join(home, 'manager.sock'))), { timeout: 30_000 }).toBe(true);
    // A stray with the fleet's label that no backend owns: the next manager deletes it at start.
    const labels = { 'app.kubernetes.io/managed-by': 'llmspell-fleet', 'llmspell-fleet/fleet': fleetLabel(home), 'llmspell-fleet/kernel-id': 'stray' };
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'llmspell-stray-connection', labels } } });
    await core.createNamespacedPod({ namespace: NS, body: { metadata: { name: 'llmspell-stray', labels }, spec: { nodeName: NODE, automountServiceAccountToken: false, containers: [{ name: 'kernel', image: 'none' }] } } });

    t0 = performance.now();
    const second = await ManagerClient.connect({ home, env: jenv!.env, autostart: true });
    const adopted = await second.request<ListedBackend[]>({ op: 'list' });
    const adoptMs = Math.round(performance.now() - t0);
    console.log(`[kube-scale] new manager up, ${adopted.length} adopted and listed: ${per(adoptMs, BACKENDS)}`);
    expect(adopted.map((b) => b.kernelId).sort()).toEqual(spawned.map((r) => r.kernelId).sort());
    await expect.poll(fleetObjects, { timeout: 30_000 }).toEqual({ pods: BACKENDS, secrets: BACKENDS });

    t0 = performance.now();
    await second.request({ op: 'stop-all' });
    const stopMs = Math.round(performance.now() - t0);
    console.log(`[kube-scale] stop-all ${BACKENDS}: ${per(stopMs, BACKENDS)}`);
    await expect.poll(fleetObjects, { timeout: 60_000, interval: 500 }).toEqual({ pods: 0, secrets: 0 });
    for (const r of spawned) expect(await isRunning(r.pid)).toBe(false);
    await expect.poll(() => kernels!.count, { timeout: 30_000 }).toBe(0);
    second.close();
  }, 900_000);
});
