/**
 * Scale groundwork for the Kubernetes launcher (issue #11): 200 pods on a kwok node against a
 * real kube-apiserver go Running, are found by label and are deleted; the time of each step is
 * printed (the figures in README "Kubernetes (groundwork)"). kwok runs no process for a pod,
 * so this measures the API path the launcher will take, not container start-up.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeCluster } from '../helpers/kube-cluster.js';
import { inParallel, startKwokCluster, stopKwokCluster, type Kwok } from '../helpers/kube-kwok.js';

const NS = 'llmspell-scale';
const NODE = 'kwok-node-0';
const PODS = 200;
const CONCURRENCY = 8;
let cluster: KubeCluster | undefined;
let kwok: Kwok | undefined;

beforeAll(async () => {
  ({ cluster, kwok } = await startKwokCluster(NS, NODE));
}, 120_000);

afterAll(async () => {
  expect(await stopKwokCluster({ cluster, kwok })).toEqual([]);
});

/** Polls the pods labelled `selector` until `done` holds for the list; returns the elapsed ms. */
async function waitForPods(api: k8s.CoreV1Api, selector: string, done: (pods: k8s.V1Pod[]) => boolean, what: string): Promise<number> {
  const started = Date.now();
  const deadline = started + 120_000;
  for (;;) {
    const pods = (await api.listNamespacedPod({ namespace: NS, labelSelector: selector })).items;
    if (done(pods)) return Date.now() - started;
    if (Date.now() > deadline) {
      const phases = pods.reduce<Record<string, number>>((acc, p) => ({ ...acc, [p.status?.phase ?? '?']: (acc[p.status?.phase ?? '?'] ?? 0) + 1 }), {});
      throw new Error(`${what}: still not there after 120 s; pods by phase: ${JSON.stringify(phases)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function kernelPod(i: number): k8s.V1Pod {
  return {
    metadata: {
      name: `kernel-${i}`,
      labels: { 'llmspell.dev/fleet': 'scale', 'llmspell.dev/kernel-id': `k${i}`, 'llmspell.dev/runtime': i % 2 === 0 ? 'python' : 'llmspell' },
    },
    spec: {
      nodeName: NODE,
      automountServiceAccountToken: false,
      containers: [{ name: 'kernel', image: 'localhost/llmspell-fleet-kube-ipykernel:test', imagePullPolicy: 'Never' }],
    },
  };
}

describe('kwok: 200 simulated kernel pods', () => {
  it('creates them, sees all Running, lists them by label and deletes them; prints the time per operation', async () => {
    const api = cluster!.adminConfig().makeApiClient(k8s.CoreV1Api);
    const indexes = Array.from({ length: PODS }, (_, i) => i);
    const figures: string[] = [];

    let started = Date.now();
    await inParallel(indexes, CONCURRENCY, (i) => api.createNamespacedPod({ namespace: NS, body: kernelPod(i) }));
    const createMs = Date.now() - started;
    figures.push(`create ${PODS}: ${createMs} ms (${(createMs / PODS).toFixed(1)} ms/pod, ${CONCURRENCY} in flight)`);

    const runningMs = await waitForPods(api, 'llmspell.dev/fleet=scale',
      (pods) => pods.length === PODS && pods.every((p) => p.status?.phase === 'Running' && p.status.podIP?.startsWith('127.0.1.')), 'all Running');
    figures.push(`all Running ${runningMs} ms after the last create`);

    started = Date.now();
    const python = await api.listNamespacedPod({ namespace: NS, labelSelector: 'llmspell.dev/fleet=scale,llmspell.dev/runtime=python' });
    figures.push(`list by label (${python.items.length} of ${PODS}): ${Date.now() - started} ms`);
    expect(python.items).toHaveLength(PODS / 2);
    expect(python.items.every((p) => Number(p.metadata?.name?.slice('kernel-'.length)) % 2 === 0)).toBe(true);
    started = Date.now();
    const one = await api.listNamespacedPod({ namespace: NS, labelSelector: 'llmspell.dev/kernel-id=k137' });
    figures.push(`find one by kernel id: ${Date.now() - started} ms`);
    expect(one.items.map((p) => p.metadata?.name)).toEqual(['kernel-137']);

    started = Date.now();
    // The launcher deletes gracefully; kwok's pod-delete stage finishes the deletion as a kubelet would.
    await inParallel(indexes, CONCURRENCY, (i) => api.deleteNamespacedPod({ name: `kernel-${i}`, namespace: NS }));
    const deleteMs = Date.now() - started;
    figures.push(`delete ${PODS}: ${deleteMs} ms (${(deleteMs / PODS).toFixed(1)} ms/pod)`);
    const goneMs = await waitForPods(api, 'llmspell.dev/fleet=scale', (pods) => pods.length === 0, 'all deleted');
    figures.push(`all gone ${goneMs} ms after the last delete`);
    console.log(`[kube] kwok figures:\n  ${figures.join('\n  ')}`);
  }, 300_000);
});
