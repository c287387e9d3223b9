/**
 * A kernel really runs in a pod (issue #11 groundwork): a real kubelet with containerd starts a
 * hostNetwork pod from the locally built ipykernel image; its connection file comes from a
 * mounted Secret (the key never appears in the pod spec or its env), ipykernel binds 127.0.0.1,
 * and the project's own wire client on the host executes code in it: the pod's name, from the
 * downward API, comes back on iopub. Deleting the pod stops the kernel.
 */
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocatePorts } from '../../src/fleet/ports.js';
import { JupyterClient } from '../../src/wire/client.js';
import type { ConnectionInfo } from '../../src/wire/connection-file.js';
import { waitForReady } from '../../src/wire/ready.js';
import { startKubeCluster, type KubeCluster } from '../helpers/kube-cluster.js';
import { KERNEL_IMAGE, startKubeletNode, type KubeletNode } from '../helpers/kube-kubelet.js';
import { processesReferencing } from '../helpers/processes.js';

const NS = 'llmspell-kernels';
// The apiserver reaches a kubelet (pod logs) at the node's Hostname address, which is its name:
// "localhost" keeps that on loopback (the kubelet refuses a loopback --node-ip).
const NODE = 'localhost';
let cluster: KubeCluster | undefined;
let node: KubeletNode | undefined;

beforeAll(async () => {
  cluster = await startKubeCluster({ nodeNames: [NODE] });
  await cluster.createNamespace(NS);
  node = await startKubeletNode(cluster, NODE);
  console.log(`[kube] containerd + images + kubelet registered in ${node.startMs} ms`);
}, 240_000);

afterAll(async () => {
  const dir = cluster?.dir;
  await node?.stop();
  await cluster?.stop();
  if (dir !== undefined) expect(await processesReferencing(dir)).toEqual([]);
}, 120_000);

function kernelPod(name: string, secretName: string): k8s.V1Pod {
  return {
    metadata: { name, labels: { 'llmspell.dev/fleet': 'kubelet-test', 'llmspell.dev/kernel-id': name } },
    spec: {
      nodeName: NODE,
      hostNetwork: true,
      automountServiceAccountToken: false,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 5,
      containers: [{
        name: 'kernel',
        image: KERNEL_IMAGE,
        imagePullPolicy: 'Never',
        // Without fd capture, what the kernel process writes to fd 1 goes to the container log.
        command: ['python', '-m', 'ipykernel_launcher', '-f', '/etc/llmspell/connection.json', '--IPKernelApp.capture_fd_output=False'],
        env: [
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'JUPYTER_RUNTIME_DIR', value: '/tmp/jupyter-runtime' },
        ],
        volumeMounts: [{ name: 'connection', mountPath: '/etc/llmspell', readOnly: true }],
      }],
      volumes: [{ name: 'connection', secret: { secretName, defaultMode: 0o400 } }],
    },
  };
}

describe('kubelet + containerd run a kernel pod', () => {
  it('executes code in ipykernel inside a hostNetwork pod through the wire client on the host', async () => {
    const core = cluster!.adminConfig().makeApiClient(k8s.CoreV1Api);
    const [shell, iopub, stdin, control, hb] = (await allocatePorts('127.0.0.1', 5)) as [number, number, number, number, number];
    const connection: ConnectionInfo = {
      transport: 'tcp', ip: '127.0.0.1', key: randomBytes(32).toString('hex'), signature_scheme: 'hmac-sha256',
      shell_port: shell, iopub_port: iopub, stdin_port: stdin, control_port: control, hb_port: hb, kernel_name: 'python3',
    };
    await core.createNamespacedSecret({
      namespace: NS,
      body: { metadata: { name: 'kernel-k1-connection' }, stringData: { 'connection.json': JSON.stringify(connection) } },
    });
    const pod = await core.createNamespacedPod({ namespace: NS, body: kernelPod('kernel-k1', 'kernel-k1-connection') });
    expect(JSON.stringify(pod.spec)).not.toContain(connection.key);

    const started = Date.now();
    let phase: string | undefined;
    for (let last = ''; phase !== 'Running'; await new Promise((r) => setTimeout(r, 200))) {
      const p = await core.readNamespacedPod({ name: 'kernel-k1', namespace: NS });
      phase = p.status?.phase;
      const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
      last = `${phase} ${waiting?.reason ?? ''} ${waiting?.message ?? ''}`;
      if (phase === 'Failed' || phase === 'Succeeded' || Date.now() - started > 120_000) {
        throw new Error(`pod kernel-k1 did not run: ${last}; kubelet log: ${node!.kubelet.logPath}`);
      }
    }
    const runningMs = Date.now() - started;

    const client = new JupyterClient({ connection });
    try {
      await waitForReady(client, { timeoutMs: 90_000 });
      console.log(`[kube] pod Running after ${runningMs} ms, kernel answering after ${Date.now() - started} ms`);
      const out: string[] = [];
      const off = client.onIopub((m) => {
        const content = m.content() as { name?: string; text?: string };
        if (m.msgType === 'stream' && content.name === 'stdout') out.push(content.text ?? '');
      });
      const reply = await client.request('execute_request', {
        code: "import os, socket\nprint(os.environ['POD_NAME'], socket.gethostname() != '', flush=True)\nos.write(1, b'to the container log\\n')",
        silent: false, store_history: false, user_expressions: {}, allow_stdin: false, stop_on_error: true,
      }, { timeoutMs: 60_000 });
      expect(reply.content()).toMatchObject({ status: 'ok' });
      await expect.poll(() => out.join(''), { timeout: 10_000 }).toBe('kernel-k1 True\n');
      off();
      // The container's own stdout, through the apiserver and the kubelet (what `logs` will read).
      const log = await core.readNamespacedPodLog({ name: 'kernel-k1', namespace: NS, container: 'kernel' });
      expect(log).toContain('to the container log');
    } finally {
      client.close();
    }

    await core.deleteNamespacedPod({ name: 'kernel-k1', namespace: NS });
    const deleted = Date.now();
    // The kubelet stops the container, then confirms the deletion (the pod object goes away).
    await expect.poll(async () => (await core.listNamespacedPod({ namespace: NS })).items.length, { timeout: 60_000, interval: 250 }).toBe(0);
    console.log(`[kube] pod deleted (kernel stopped) in ${Date.now() - deleted} ms`);
    // The kernel ran as a process of this machine (in the pod's namespaces); it is gone now.
    expect(await processesReferencing('/etc/llmspell/connection.json')).toEqual([]);
    await core.deleteNamespacedSecret({ name: 'kernel-k1-connection', namespace: NS });
  }, 300_000);
});
