/**
 * The Kubernetes groundwork (issue #11): a real etcd and kube-apiserver on 127.0.0.1, started
 * by test/helpers/kube-cluster.ts from the binaries scripts/setup-kube.sh builds, answer
 * @kubernetes/client-node 1.4.0 (the client the launcher will use) through the generated
 * kubeconfig: pods and secrets are created, listed, read and deleted.
 */
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processesReferencing } from '../helpers/processes.js';
import { startKubeCluster, type KubeCluster } from '../helpers/kube-cluster.js';

const NS = 'llmspell-api';
let cluster: KubeCluster | undefined;

beforeAll(async () => {
  cluster = await startKubeCluster();
  console.log(`[kube] kube-apiserver ready in ${cluster.apiserverStartMs} ms`);
  await cluster.createNamespace(NS);
}, 120_000);

afterAll(async () => {
  const dir = cluster?.dir;
  await cluster?.stop();
  if (dir !== undefined) expect(await processesReferencing(dir)).toEqual([]);
});

function core(): k8s.CoreV1Api {
  if (cluster === undefined) throw new Error('no cluster');
  return cluster.adminConfig().makeApiClient(k8s.CoreV1Api);
}

describe('kube-apiserver + etcd with @kubernetes/client-node', () => {
  it('reports its version and the namespace with its default ServiceAccount', async () => {
    const kc = cluster!.adminConfig();
    const version = await kc.makeApiClient(k8s.VersionApi).getCode();
    expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    const sa = await core().readNamespacedServiceAccount({ name: 'default', namespace: NS });
    expect(sa.metadata?.name).toBe('default');
  });

  it('creates, lists, reads and deletes a Secret', async () => {
    const api = core();
    await api.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'conn', labels: { 'llmspell.dev/fleet': 'test' } }, stringData: { key: 'k-123' } },
    });
    const listed = await api.listNamespacedSecret({ namespace: NS, labelSelector: 'llmspell.dev/fleet=test' });
    expect(listed.items.map((s) => s.metadata?.name)).toEqual(['conn']);
    const read = await api.readNamespacedSecret({ name: 'conn', namespace: NS });
    expect(Buffer.from(read.data?.key ?? '', 'base64').toString()).toBe('k-123');
    await api.deleteNamespacedSecret({ name: 'conn', namespace: NS });
    expect((await api.listNamespacedSecret({ namespace: NS })).items).toEqual([]);
  });

  it('creates, lists and deletes a Pod (Pending: no node runs it here)', async () => {
    const api = core();
    const pod = await api.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: 'kernel-a', labels: { 'llmspell.dev/fleet': 'test', 'llmspell.dev/kernel-id': 'a' } },
        spec: {
          automountServiceAccountToken: false,
          containers: [{ name: 'kernel', image: 'localhost/none:latest', imagePullPolicy: 'Never' }],
        },
      },
    });
    expect(pod.metadata?.uid).toBeTruthy();
    const listed = await api.listNamespacedPod({ namespace: NS, labelSelector: 'llmspell.dev/kernel-id=a' });
    expect(listed.items.map((p) => [p.metadata?.name, p.status?.phase])).toEqual([['kernel-a', 'Pending']]);
    // No kubelet owns it, so a graceful delete would wait forever: delete at once.
    await api.deleteNamespacedPod({ name: 'kernel-a', namespace: NS, gracePeriodSeconds: 0 });
    expect((await api.listNamespacedPod({ namespace: NS })).items).toEqual([]);
  });

  it('refuses a pod in a namespace without its default ServiceAccount, saying so', async () => {
    const api = core();
    await api.createNamespace({ body: { metadata: { name: 'llmspell-no-sa' } } });
    const attempt = api.createNamespacedPod({
      namespace: 'llmspell-no-sa',
      body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    });
    // client-node 1.x rejects with an ApiException: the HTTP code, and the Status as JSON text.
    const err = (await attempt.catch((e: unknown) => e)) as { code?: number; body?: string };
    expect(err.code).toBe(403);
    const status = JSON.parse(err.body ?? '{}') as { reason?: string; message?: string };
    expect(status.reason).toBe('Forbidden');
    expect(status.message).toMatch(/serviceaccount "default" not found/);
  });
});
