/**
 * `llmspell-fleet doctor` on kubernetes runtimes against a real kube-apiserver with RBAC on:
 * the manager's ServiceAccount with the Role of examples/kubernetes/rbac.yaml passes every
 * check; an account without a RoleBinding fails naming each verb it lacks; a namespace that
 * does not exist and an API that does not answer are named too.
 */
import * as k8s from '@kubernetes/client-node';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJupyterEnv, REPO_ROOT, type JupyterEnv } from '../helpers/e2e.js';
import { CLI, setupFleet } from '../helpers/fleet-env.js';
import { startKubeCluster, type KubeCluster } from '../helpers/kube-cluster.js';
import { freePort } from '../helpers/kube-daemons.js';
import { processesReferencing } from '../helpers/processes.js';
import { runToExit } from '../helpers/run.js';

const EXAMPLES = join(REPO_ROOT, 'examples', 'kubernetes');
const NS = 'llmspell-fleet';
let cluster: KubeCluster | undefined;
let jenv: JupyterEnv;

interface Report {
  ok: boolean;
  checks: Array<{ name: string; status: string; detail: string; fix?: string }>;
}

const runtime = (name: string, kubeconfig: string, namespace = NS): string =>
  [`[runtimes.${name}]`, 'argv = ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]', 'launcher = "kubernetes"', 'image = "localhost/llmspell-fleet-doctor:1"', `namespace = "${namespace}"`, `kubeconfig = "${kubeconfig}"`, ''].join('\n');

async function token(admin: k8s.KubeConfig, account: string): Promise<string> {
  const core = admin.makeApiClient(k8s.CoreV1Api);
  const t = await core.createNamespacedServiceAccountToken({ name: account, namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
  return t.status?.token ?? '';
}

async function doctor(): Promise<Report> {
  const r = await runToExit(process.execPath, [CLI, 'doctor', '--json'], { env: jenv.env, timeoutMs: 60_000 });
  return JSON.parse(r.stdout) as Report;
}

let report: Report;

beforeAll(async () => {
  cluster = await startKubeCluster();
  const admin = cluster.adminConfig();
  const api = k8s.KubernetesObjectApi.makeApiClient(admin);
  for (const file of ['namespace.yaml', 'rbac.yaml']) for (const obj of k8s.loadAllYaml(await readFile(join(EXAMPLES, file), 'utf8')) as k8s.KubernetesObject[]) await api.create(obj);
  await admin.makeApiClient(k8s.CoreV1Api).createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'unbound' } } });
  const bound = await cluster.writeKubeconfig('manager', await token(admin, 'llmspell-fleet-manager'));
  const unbound = await cluster.writeKubeconfig('unbound', await token(admin, 'unbound'));
  jenv = await makeJupyterEnv();
  const deadApi = join(jenv.dir, 'dead.kubeconfig');
  const dead = (await readFile(bound, 'utf8')).replace(cluster.server, `https://127.0.0.1:${await freePort()}`);
  await writeFile(deadApi, dead, { mode: 0o600 });
  const toml = [
    'default_runtime = "kbound"',
    'default_provider = "openai"',
    runtime('kbound', bound),
    runtime('kunbound', unbound),
    runtime('knons', cluster.kubeconfigPath, 'no-such-namespace'),
    runtime('kbounds', bound, 'no-such-namespace'),
    runtime('kdead', deadApi),
  ].join('\n');
  await setupFleet(jenv, { toml });
  report = await doctor();
}, 180_000);

afterAll(async () => {
  await jenv?.cleanup();
  const dir = cluster?.dir;
  await cluster?.stop();
  if (dir !== undefined) expect(await processesReferencing(dir)).toEqual([]);
});

const check = (name: string) => {
  const found = report.checks.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no check "${name}" in ${JSON.stringify(report.checks.map((c) => c.name))}`);
  return found;
};

describe('doctor on kubernetes runtimes (real kube-apiserver)', () => {
  it('passes the account bound to the example Role: api, namespace, rbac, image', () => {
    expect(check('kubernetes kbound: image')).toMatchObject({ status: 'OK', detail: 'localhost/llmspell-fleet-doctor:1' });
    expect(check('kubernetes kbound: api')).toMatchObject({ status: 'OK' });
    expect(check('kubernetes kbound: api').detail).toMatch(/answers, v1\.\d+/);
    expect(check('kubernetes kbound: api').detail).toContain('manager.kubeconfig');
    expect(check('kubernetes kbound: namespace')).toMatchObject({ status: 'OK', detail: `${NS} exists` });
    expect(check('kubernetes kbound: rbac')).toMatchObject({ status: 'OK' });
    expect(report.ok).toBe(true);
  });

  it('fails an account without a RoleBinding, naming each missing verb and the example Role', () => {
    const rbac = check('kubernetes kunbound: rbac');
    expect(rbac.status).toBe('FAIL');
    for (const missing of ['create pods', 'get pods', 'list pods', 'watch pods', 'delete pods', 'get pods/log', 'create secrets', 'get secrets', 'list secrets', 'delete secrets']) {
      expect(rbac.detail).toContain(missing);
    }
    expect(rbac.fix).toContain('examples/kubernetes/rbac.yaml');
  });

  it('names a namespace that does not exist (an account that may read namespaces)', () => {
    expect(check('kubernetes knons: namespace')).toMatchObject({ status: 'FAIL', detail: 'namespace no-such-namespace does not exist' });
  });

  it('says a Role-bound account cannot tell about another namespace, and may do nothing there', () => {
    expect(check('kubernetes kbounds: namespace').status).toBe('WARN');
    expect(check('kubernetes kbounds: namespace').detail).toContain('cannot tell whether namespace no-such-namespace exists');
    expect(check('kubernetes kbounds: rbac').status).toBe('FAIL');
  });

  it('names an API that does not answer', () => {
    const api = check('kubernetes kdead: api');
    expect(api.status).toBe('FAIL');
    expect(api.detail).toContain('does not answer');
  });
});
