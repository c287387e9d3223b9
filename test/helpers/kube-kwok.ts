/**
 * kwok on a test cluster: simulated nodes whose pods go Running without any process, for
 * tests at a scale real pods would not fit on these machines. kwok manages only nodes
 * annotated kwok.x-k8s.io/node=fake, gives pods addresses from 127.0.1.0/24 (its default,
 * 10.0.0.0/24, is not loopback), and moves them with the stage files scripts/kube-binaries.sh
 * copies from its module (node/fast, node/heartbeat, pod/fast: Running at once, gone at once
 * when deleted).
 */
import * as k8s from '@kubernetes/client-node';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { kubeBinary, requireKubeBinaries, startKubeCluster, type KubeCluster } from './kube-cluster.js';
import { kubeCacheDir, startDaemon, waitForDaemon, type Daemon } from './kube-daemons.js';
import { processesReferencing, type ProcessInfo } from './processes.js';

export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';

export interface Kwok {
  daemon: Daemon;
  /** Creates a kwok-managed node and waits until it is Ready. */
  addNode(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startKwok(cluster: KubeCluster): Promise<Kwok> {
  await requireKubeBinaries(['kwok']);
  const stagesDir = join(kubeCacheDir(), 'stages');
  const stages = (await readdir(stagesDir)).filter((f) => f.endsWith('.yaml')).map((f) => join(stagesDir, f));
  if (stages.length === 0) throw new Error(`no kwok stage files in ${stagesDir}: run scripts/setup-kube.sh`);
  const daemon = await startDaemon('kwok', kubeBinary('kwok'), [
    `--kubeconfig=${cluster.kubeconfigPath}`,
    ...stages.map((s) => `--config=${s}`),
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
    '--cidr=127.0.1.0/24',
    '--node-ip=127.0.0.1',
  ], cluster.dir);
  const core = cluster.adminConfig().makeApiClient(k8s.CoreV1Api);
  return {
    daemon,
    async addNode(name) {
      await core.createNode({
        body: {
          metadata: {
            name,
            annotations: { [KWOK_NODE_ANNOTATION]: 'fake' },
            labels: { 'kubernetes.io/hostname': name, type: 'kwok' },
          },
        },
      });
      await waitForDaemon(daemon, `kwok node ${name} Ready`, async () => {
        const node = await core.readNode({ name });
        return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;
      }, 60_000);
    },
    stop: () => daemon.stop(),
  };
}

/**
 * What the kwok scale tests start from: a test cluster with `namespace` and one Ready kwok
 * node. On a failure part-way, what had started is stopped before the error is thrown.
 */
export async function startKwokCluster(namespace: string, node: string): Promise<{ cluster: KubeCluster; kwok: Kwok }> {
  const cluster = await startKubeCluster();
  let kwok: Kwok | undefined;
  try {
    await cluster.createNamespace(namespace);
    kwok = await startKwok(cluster);
    await kwok.addNode(node);
    return { cluster, kwok };
  } catch (error) {
    await kwok?.stop();
    await cluster.stop();
    throw error;
  }
}

/** Stops kwok, then the cluster; returns the processes still referring to the cluster's directory (to be none). */
export async function stopKwokCluster({ cluster, kwok }: { cluster?: KubeCluster | undefined; kwok?: Kwok | undefined }): Promise<ProcessInfo[]> {
  const dir = cluster?.dir;
  await kwok?.stop();
  await cluster?.stop();
  return dir === undefined ? [] : await processesReferencing(dir);
}

/** Runs `fn` over `items` with at most `limit` calls in flight (the scale tests' API requests). */
export async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}
