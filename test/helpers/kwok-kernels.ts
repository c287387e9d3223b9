/**
 * A named fixture for kwok pods, which run no process: for each of the fleet's connection
 * Secrets in a namespace, a KernelPeer (zmq-peers.ts: binds the five ports of the Secret's
 * connection file on 127.0.0.1, answers kernel_info and heartbeats) stands in for the kernel a
 * real node would run in a hostNetwork pod; it is closed when the Secret is deleted. With it the
 * manager's whole start path (pod Running, then the kernel answering) runs against kwok.
 */
import * as k8s from '@kubernetes/client-node';
import * as zmq from 'zeromq';
import { parseConnectionInfo } from '../../src/wire/connection-file.js';
import { KernelPeer } from './zmq-peers.js';

export interface KwokKernels {
  /** Kernels bound now. */
  readonly count: number;
  stop(): Promise<void>;
}

export async function startKwokKernels(kc: k8s.KubeConfig, namespace: string, labelSelector: string): Promise<KwokKernels> {
  // Five sockets per kernel: hundreds of kernels need more than zeromq's default 1023.
  zmq.context.maxSockets = Math.max(zmq.context.maxSockets, 4096);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  let stopped = false;
  const peers = new Map<string, Promise<KernelPeer | undefined>>();
  const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${namespace}/secrets`, () => core.listNamespacedSecret({ namespace, labelSelector }), labelSelector);
  const bind = (secret: k8s.V1Secret): void => {
    const name = secret.metadata?.name;
    const data = secret.data?.['connection.json'];
    if (name === undefined || data === undefined || peers.has(name)) return;
    const info = parseConnectionInfo(Buffer.from(data, 'base64').toString('utf8'), name);
    // hostNetwork pods bind loopback (the launcher wrote 127.0.0.1 into the Secret).
    peers.set(name, KernelPeer.start({ ...info, ip: '127.0.0.1' }).catch(() => undefined));
  };
  informer.on('add', bind);
  informer.on('update', bind);
  informer.on('delete', (secret) => {
    const name = secret.metadata?.name;
    const peer = name === undefined ? undefined : peers.get(name);
    if (name !== undefined) peers.delete(name);
    void peer?.then((p) => p?.close());
  });
  informer.on('error', () => {
    if (!stopped) setTimeout(() => void informer.start().catch(() => undefined), 500);
  });
  await informer.start();
  return {
    get count() {
      return peers.size;
    },
    async stop() {
      stopped = true;
      await informer.stop();
      for (const peer of peers.values()) (await peer)?.close();
      peers.clear();
    },
  };
}
