/**
 * A real Kubernetes control plane for tests: etcd and kube-apiserver, both on 127.0.0.1 only,
 * with their data, keys and logs in one temp dir per cluster. There is no controller-manager
 * and no scheduler: namespaces get their `default` ServiceAccount from createNamespace, pods
 * need `spec.nodeName` and `automountServiceAccountToken: false` (see
 * ../shared/notes/real-infrastructure-here.md). Nodes come from kube-nodes.ts (kwok, kubelet).
 *
 * Clients authenticate with static tokens: an admin (group system:masters) and one per node
 * (system:node:<name>, group system:nodes, which the Node authorizer scopes to its own pods).
 * Everything else goes through RBAC, as on a real cluster.
 *
 * Needs the binaries of scripts/kube-binaries.sh (scripts/setup-kube.sh runs it).
 */
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, kubeCacheDir, startDaemon, waitForDaemon, type Daemon } from './kube-daemons.js';
import { makeClusterPki, type ClusterPki } from './kube-pki.js';
import { waitForNoProcesses } from './processes.js';

export interface KubeCluster {
  /** The cluster's temp dir (data, keys, logs, kubeconfigs); also finds its processes. */
  dir: string;
  /** https://127.0.0.1:<port> */
  server: string;
  pki: ClusterPki;
  /** An admin kubeconfig file (0600). */
  kubeconfigPath: string;
  /** Milliseconds from starting kube-apiserver to /readyz answering ok. */
  apiserverStartMs: number;
  /** A KubeConfig for the admin, from kubeconfigPath. */
  adminConfig(): k8s.KubeConfig;
  /** Writes a kubeconfig that authenticates with `token`, and returns its path. */
  writeKubeconfig(name: string, token: string): Promise<string>;
  /** The static token of node `nodeName` (user system:node:<nodeName>). */
  nodeToken(nodeName: string): string;
  /** Creates a namespace and its `default` ServiceAccount. */
  createNamespace(name: string): Promise<void>;
  /** Stops the apiserver and etcd, checks no process of the cluster is left, removes dir. */
  stop(): Promise<void>;
}

export interface KubeClusterOptions {
  /** Names of the nodes that get a static token (kwok and kubelet nodes). */
  nodeNames?: string[];
}

export function kubeBinary(name: 'kube-apiserver' | 'kubelet' | 'kwok'): string {
  return join(kubeCacheDir(), 'bin', name);
}

/** Throws an error saying how to build them when the binaries are missing. */
export async function requireKubeBinaries(names: Array<'kube-apiserver' | 'kubelet' | 'kwok'>): Promise<void> {
  for (const name of names) {
    await access(kubeBinary(name)).catch(() => {
      throw new Error(`${kubeBinary(name)} is missing: run scripts/setup-kube.sh (it builds the Kubernetes binaries)`);
    });
  }
}

/** GET `path` on the apiserver with the admin token; true when it answers 200. */
function apiserverOk(server: string, ca: Buffer, token: string, path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${server}${path}`, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function kubeconfigJson(server: string, caCert: Buffer, user: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'llmspell-test', cluster: { server, 'certificate-authority-data': caCert.toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: 'llmspell-test', user } }],
    'current-context': user,
  }, null, 2);
}

export async function startKubeCluster(opts: KubeClusterOptions = {}): Promise<KubeCluster> {
  await requireKubeBinaries(['kube-apiserver']);
  const dir = await mkdtemp(join(tmpdir(), 'llmspell-fleet-kube-'));
  const daemons: Daemon[] = [];
  const stop = async (): Promise<void> => {
    try {
      for (const d of [...daemons].reverse()) await d.stop();
      await waitForNoProcesses(dir, 15_000);
    } finally {
      await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
  };
  try {
    const pkiDir = join(dir, 'pki');
    await mkdir(pkiDir, { mode: 0o700 });
    const pki = await makeClusterPki(pkiDir);
    const ca = await readFile(pki.caCert);

    const adminToken = randomBytes(24).toString('hex');
    const nodeTokens = new Map((opts.nodeNames ?? []).map((n) => [n, randomBytes(24).toString('hex')]));
    const tokenLines = [`${adminToken},llmspell-test-admin,admin,"system:masters"`];
    for (const [node, token] of nodeTokens) tokenLines.push(`${token},system:node:${node},node-${node},"system:nodes"`);
    const tokenFile = join(pkiDir, 'tokens.csv');
    await writeFile(tokenFile, tokenLines.join('\n') + '\n', { mode: 0o600 });

    const [etcdClient, etcdPeer, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcd = await startDaemon('etcd', 'etcd', [
      '--name=llmspell-test', `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=http://127.0.0.1:${etcdClient}`, `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
      `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`, `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
      `--initial-cluster=llmspell-test=http://127.0.0.1:${etcdPeer}`,
      // Tests write little and throw the data away: no fsync wait, no history worth keeping.
      '--unsafe-no-fsync', '--quota-backend-bytes=536870912', '--logger=zap', '--log-level=warn',
    ], dir);
    daemons.push(etcd);
    await waitForDaemon(etcd, 'etcd health', async () => {
      const res = await fetch(`http://127.0.0.1:${etcdClient}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    }, 30_000);

    const server = `https://127.0.0.1:${apiPort}`;
    const started = Date.now();
    const apiserver = await startDaemon('kube-apiserver', kubeBinary('kube-apiserver'), [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${apiPort}`,
      // Bound to loopback, the apiserver refuses to publish its own endpoints otherwise.
      '--endpoint-reconciler-type=none',
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      `--tls-cert-file=${pki.servingCert}`, `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`, `--token-auth-file=${tokenFile}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=https://kubernetes.default.svc`,
      `--service-account-key-file=${pki.serviceAccountPub}`, `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--kubelet-client-certificate=${pki.kubeletClientCert}`, `--kubelet-client-key=${pki.kubeletClientKey}`,
      '--kubelet-preferred-address-types=Hostname,InternalIP', '--profiling=false', '--v=1',
      // Streaming lists need etcd's RequestWatchProgress, which Debian's etcd 3.4 lacks: with
      // WatchList on, client-go's informers (kwok's) get an error event on every watch and back
      // off up to a minute; off, they are refused at once and use list + watch.
      '--feature-gates=WatchList=false',
    ], dir);
    daemons.push(apiserver);
    await waitForDaemon(apiserver, 'kube-apiserver /readyz', () => apiserverOk(server, ca, adminToken, '/readyz'), 90_000);
    const apiserverStartMs = Date.now() - started;

    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfigJson(server, ca, 'llmspell-test-admin', adminToken), { mode: 0o600 });
    const adminConfig = (): k8s.KubeConfig => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    };
    return {
      dir,
      server,
      pki,
      kubeconfigPath,
      apiserverStartMs,
      adminConfig,
      async writeKubeconfig(name, token) {
        const path = join(dir, `${name}.kubeconfig`);
        await writeFile(path, kubeconfigJson(server, ca, name, token), { mode: 0o600 });
        return path;
      },
      nodeToken(nodeName) {
        const token = nodeTokens.get(nodeName);
        if (token === undefined) throw new Error(`node ${nodeName} has no token: pass it in startKubeCluster({ nodeNames })`);
        return token;
      },
      async createNamespace(name) {
        const core = adminConfig().makeApiClient(k8s.CoreV1Api);
        await core.createNamespace({ body: { metadata: { name } } });
        // No controller-manager creates it, and pods are refused without it.
        await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } });
      },
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
