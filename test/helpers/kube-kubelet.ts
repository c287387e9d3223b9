/**
 * A real node for a test cluster: Debian's containerd (its own config, root, state and socket
 * under the cluster's dir, so the machine's containerd is never touched) and a kubelet that
 * registers as `nodeName` and serves on 127.0.0.1. The kubelet refuses a loopback node IP, so
 * the node's InternalIP is the machine's own address: tests never connect to it (hostNetwork
 * pods bind 127.0.0.1 themselves). There is no CNI, so the node stays NotReady
 * and only `hostNetwork: true` pods run; reach them on 127.0.0.1. Images cannot be pulled here:
 * the archives of scripts/kube-images.sh are imported into containerd's k8s.io namespace, and
 * pods use `imagePullPolicy: Never`.
 *
 * Settings this machine needs (cgroup v1, no systemd; ../shared/notes/real-infrastructure-here.md):
 * kubelet cgroupDriver cgroupfs and failCgroupV1 false, containerd restrict_oom_score_adj
 * (runc cannot lower oom_score_adj here) and the local pause image as sandbox_image.
 */
import * as k8s from '@kubernetes/client-node';
import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { kubeBinary, requireKubeBinaries, type KubeCluster } from './kube-cluster.js';
import { freePort, run, startDaemon, waitForDaemon, type Daemon } from './kube-daemons.js';

export const PAUSE_IMAGE = 'localhost/llmspell-fleet-kube-pause:1';
export const KERNEL_IMAGE = 'localhost/llmspell-fleet-kube-ipykernel:1';

export function kubeImagesDir(): string {
  return process.env.LLMSPELL_KUBE_IMAGES ?? join(homedir(), '.cache', 'llmspell-fleet', 'kube', 'images');
}

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The `kubepods` cgroups (one per v1 hierarchy, plus cgroup2) that exist now. */
async function kubepodsCgroups(): Promise<string[]> {
  const found: string[] = [];
  for (const hierarchy of await readdir(CGROUP_ROOT).catch(() => [])) {
    const path = join(CGROUP_ROOT, hierarchy, 'kubepods');
    if ((await readdir(path).catch(() => undefined)) !== undefined) found.push(path);
  }
  return found;
}

/** Removes an empty cgroup tree, leaves first; a cgroup that still has tasks stays. */
async function removeCgroupTree(path: string): Promise<void> {
  for (const entry of await readdir(path, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory()) await removeCgroupTree(join(path, entry.name));
  }
  await rmdir(path).catch(() => undefined);
}

/**
 * Unmounts what is still mounted under `dir`, deepest first: the kubelet bind-mounts its root
 * dir onto itself (to make it rshared) and mounts secret volumes there, and leaves them.
 */
async function unmountUnder(dir: string): Promise<void> {
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const points = mountinfo.split('\n').map((line) => line.split(' ')[4] ?? '').filter((p) => p.startsWith(`${dir}/`));
  for (const point of points.sort((a, b) => b.length - a.length)) {
    await run('umount', [point]).catch(() => run('umount', ['--lazy', point]).catch(() => undefined));
  }
}

export interface KubeletNode {
  nodeName: string;
  containerd: Daemon;
  kubelet: Daemon;
  /** Milliseconds for containerd up, images imported, kubelet registered. */
  startMs: number;
  /** Stops the kubelet, kills what containerd still runs, stops containerd. */
  stop(): Promise<void>;
}

function containerdConfig(dir: string, socket: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "${dir}/opt"
[${cri}]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [${cri}.cni]
    bin_dir = "${dir}/cni/bin"
    conf_dir = "${dir}/cni/conf"
  [${cri}.containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [${cri}.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [${cri}.containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "${dir}/runc"
`;
}

function kubeletConfig(dir: string, socket: string, caCert: string, port: number): string {
  return JSON.stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    cgroupDriver: 'cgroupfs',
    failCgroupV1: false,
    failSwapOn: false,
    containerRuntimeEndpoint: `unix://${socket}`,
    address: '127.0.0.1',
    port,
    readOnlyPort: 0,
    healthzPort: 0,
    // The apiserver fetches pod logs with the client certificate of kube-pki.ts.
    authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: caCert } },
    authorization: { mode: 'AlwaysAllow' },
    // The machine's iptables, disks and images are not this test's to manage.
    makeIPTablesUtilChains: false,
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%' },
    volumePluginDir: join(dir, 'volume-plugins'),
    podLogsDir: join(dir, 'pod-logs'),
    registerNode: true,
    syncFrequency: '5s',
  }, null, 2);
}

export async function startKubeletNode(cluster: KubeCluster, nodeName: string): Promise<KubeletNode> {
  await requireKubeBinaries(['kubelet']);
  const started = Date.now();
  const ctrDir = join(cluster.dir, 'containerd');
  const socket = join(ctrDir, 'containerd.sock');
  await mkdir(join(ctrDir, 'cni', 'conf'), { recursive: true, mode: 0o700 });
  await mkdir(join(ctrDir, 'cni', 'bin'), { recursive: true, mode: 0o700 });
  await writeFile(join(ctrDir, 'config.toml'), containerdConfig(ctrDir, socket), { mode: 0o600 });
  const containerd = await startDaemon('containerd', 'containerd', ['--config', join(ctrDir, 'config.toml')], cluster.dir);
  const ctr = (...args: string[]): Promise<string> => run('ctr', ['--address', socket, '--namespace', 'k8s.io', ...args]);
  let kubelet: Daemon | undefined;
  // The kubelet makes the QoS cgroups (kubepods/...) and leaves them; remove only those it made.
  const cgroupsBefore = new Set(await kubepodsCgroups());
  const stop = async (): Promise<void> => {
    await kubelet?.stop();
    // The kubelet leaves its containers running by design; nothing else would stop them.
    if (containerd.child.exitCode === null) {
      const tasks = (await ctr('tasks', 'ls', '--quiet').catch(() => '')).split('\n').filter(Boolean);
      for (const id of tasks) await ctr('tasks', 'kill', '--signal', 'SIGKILL', id).catch(() => undefined);
      for (const id of tasks) await ctr('tasks', 'delete', '--force', id).catch(() => undefined);
    }
    await containerd.stop();
    for (const path of await kubepodsCgroups()) if (!cgroupsBefore.has(path)) await removeCgroupTree(path);
    await unmountUnder(cluster.dir);
  };
  try {
    await waitForDaemon(containerd, 'containerd', async () => (await ctr('version'), true), 60_000);
    for (const archive of ['pause.tar', 'ipykernel.tar']) {
      await ctr('images', 'import', join(kubeImagesDir(), archive)).catch((err: unknown) => {
        throw new Error(`importing ${archive} into containerd failed (run scripts/setup-kube.sh to build it): ${String(err)}`);
      });
    }

    const kubeletDir = join(cluster.dir, 'kubelet');
    await mkdir(kubeletDir, { recursive: true, mode: 0o700 });
    const config = join(kubeletDir, 'config.json');
    await writeFile(config, kubeletConfig(kubeletDir, socket, cluster.pki.caCert, await freePort()), { mode: 0o600 });
    const kubeconfig = await cluster.writeKubeconfig(`node-${nodeName}`, cluster.nodeToken(nodeName));
    kubelet = await startDaemon('kubelet', kubeBinary('kubelet'), [
      `--config=${config}`, `--kubeconfig=${kubeconfig}`, `--root-dir=${kubeletDir}`,
      `--cert-dir=${join(kubeletDir, 'pki')}`, `--hostname-override=${nodeName}`, '--v=1',
    ], cluster.dir);
    const core = cluster.adminConfig().makeApiClient(k8s.CoreV1Api);
    const node = kubelet;
    await waitForDaemon(node, `kubelet registering node ${nodeName}`, async () => {
      const n = await core.readNode({ name: nodeName });
      return (n.status?.conditions ?? []).some((c) => c.type === 'Ready');
    }, 120_000);
    return { nodeName, containerd, kubelet: node, startMs: Date.now() - started, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
