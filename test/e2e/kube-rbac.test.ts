/**
 * examples/kubernetes (namespace and the manager's Role + RoleBinding) applied to a real
 * kube-apiserver with RBAC on: the manager's ServiceAccount, with a token from the TokenRequest
 * API, can do what the Kubernetes launcher needs in its namespace and is refused anything else.
 */
import * as k8s from '@kubernetes/client-node';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/e2e.js';
import { startKubeCluster, type KubeCluster } from '../helpers/kube-cluster.js';
import { processesReferencing } from '../helpers/processes.js';

const EXAMPLES = join(REPO_ROOT, 'examples', 'kubernetes');
const NS = 'llmspell-fleet';
const SA = 'llmspell-fleet-manager';
let cluster: KubeCluster | undefined;
let manager: k8s.KubeConfig | undefined;

async function applyExample(kc: k8s.KubeConfig, file: string): Promise<void> {
  const objects = k8s.loadAllYaml(await readFile(join(EXAMPLES, file), 'utf8')) as k8s.KubernetesObject[];
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const obj of objects) await api.create(obj);
}

beforeAll(async () => {
  cluster = await startKubeCluster();
  const admin = cluster.adminConfig();
  await applyExample(admin, 'namespace.yaml');
  // What a controller-manager would create: pods are refused without it.
  await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'default' } } });
  await applyExample(admin, 'rbac.yaml');
  await cluster.createNamespace('other-team');
  const token = await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccountToken({
    name: SA,
    namespace: NS,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  manager = new k8s.KubeConfig();
  manager.loadFromFile(await cluster.writeKubeconfig('manager', token.status?.token ?? ''));
}, 120_000);

afterAll(async () => {
  const dir = cluster?.dir;
  await cluster?.stop();
  if (dir !== undefined) expect(await processesReferencing(dir)).toEqual([]);
});

const pod: k8s.V1Pod = {
  metadata: { name: 'kernel-rbac', labels: { 'llmspell.dev/fleet': 'rbac' } },
  spec: { automountServiceAccountToken: false, containers: [{ name: 'kernel', image: 'localhost/none', imagePullPolicy: 'Never' }] },
};

describe('examples/kubernetes RBAC for the fleet manager', () => {
  it('lets the manager create, get, list and delete pods and secrets in its namespace', async () => {
    const core = manager!.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: 'conn-rbac' }, stringData: { key: 'k' } } });
    expect((await core.readNamespacedSecret({ name: 'conn-rbac', namespace: NS })).metadata?.name).toBe('conn-rbac');
    expect((await core.listNamespacedSecret({ namespace: NS })).items.map((s) => s.metadata?.name)).toEqual(['conn-rbac']);
    await core.createNamespacedPod({ namespace: NS, body: pod });
    expect((await core.readNamespacedPod({ name: 'kernel-rbac', namespace: NS })).metadata?.name).toBe('kernel-rbac');
    expect((await core.listNamespacedPod({ namespace: NS, labelSelector: 'llmspell.dev/fleet=rbac' })).items).toHaveLength(1);
    await core.deleteNamespacedPod({ name: 'kernel-rbac', namespace: NS, gracePeriodSeconds: 0 });
    await core.deleteNamespacedSecret({ name: 'conn-rbac', namespace: NS });
  });

  it.each([
    ['watch', 'pods', ''],
    ['get', 'pods', 'log'],
  ])('allows %s on %s/%s (SelfSubjectAccessReview)', async (verb, resource, subresource) => {
    const review = await manager!.makeApiClient(k8s.AuthorizationV1Api).createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { namespace: NS, verb, resource, subresource } } },
    });
    expect(review.status?.allowed).toBe(true);
  });

  it.each([
    ['listing nodes', (core: k8s.CoreV1Api) => core.listNode()],
    ['listing secrets in another namespace', (core: k8s.CoreV1Api) => core.listNamespacedSecret({ namespace: 'other-team' })],
    ['creating a pod in another namespace', (core: k8s.CoreV1Api) => core.createNamespacedPod({ namespace: 'other-team', body: pod })],
    ['reading configmaps in its own namespace', (core: k8s.CoreV1Api) => core.listNamespacedConfigMap({ namespace: NS })],
    ['updating a secret', (core: k8s.CoreV1Api) => core.replaceNamespacedSecret({ name: 'x', namespace: NS, body: { metadata: { name: 'x' } } })],
  ])('refuses %s with 403', async (_what, call) => {
    await expect(call(manager!.makeApiClient(k8s.CoreV1Api))).rejects.toMatchObject({ code: 403 });
  });

  it('refuses changing its own Role', async () => {
    const rbac = manager!.makeApiClient(k8s.RbacAuthorizationV1Api);
    await expect(rbac.readNamespacedRole({ name: SA, namespace: NS })).rejects.toMatchObject({ code: 403 });
  });
});
