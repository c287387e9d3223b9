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
import { kubeBinary, requireKubeBinaries, type KubeCluster } from './kube-cluster.js';
import { kubeCacheDir, startDaemon, waitForDaemon, type Daemon } from './kube-daemons.js';

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
