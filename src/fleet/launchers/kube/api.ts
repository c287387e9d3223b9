/**
 * Kubernetes backends, the I/O half: one API client per kubeconfig + context, and one watch
 * (an informer: list, then watch, relisting after an error) per namespace and fleet, never one
 * per pod. @kubernetes/client-node is imported here on first use only: the manager loads this
 * module when a runtime or a registry entry uses kubernetes, not at start.
 */
import type { CoreV1Api, Informer, KubeConfig, ObjectCache, V1Pod } from '@kubernetes/client-node';
import type { KubeAccess } from '../../types.js';
import { fleetSelector } from './spec.js';

type ClientNode = typeof import('@kubernetes/client-node');
let loaded: Promise<ClientNode> | undefined;
export function clientNode(): Promise<ClientNode> {
  loaded ??= import('@kubernetes/client-node');
  return loaded;
}

export interface KubeClient {
  kc: KubeConfig;
  core: CoreV1Api;
}

const clients = new Map<string, Promise<KubeClient>>();

function accessKey(access: KubeAccess): string {
  return `${access.kubeconfig ?? ''}\0${access.context ?? ''}`;
}

/** One namespace of one cluster: what a watch, and a sweep, is kept per. */
export function siteKey(access: KubeAccess, namespace: string): string {
  return `${accessKey(access)}\0${namespace}`;
}

/** The client for a kubeconfig (else KUBECONFIG, ~/.kube/config, in-cluster) and context. */
export function kubeClient(access: KubeAccess): Promise<KubeClient> {
  const key = accessKey(access);
  let client = clients.get(key);
  if (client === undefined) {
    client = (async () => {
      const k8s = await clientNode();
      const kc = new k8s.KubeConfig();
      if (access.kubeconfig !== undefined) kc.loadFromFile(access.kubeconfig);
      else kc.loadFromDefault();
      if (access.context !== undefined) kc.setCurrentContext(access.context);
      if (kc.getCurrentCluster() === null) throw new Error(`no Kubernetes cluster in ${access.kubeconfig ?? 'KUBECONFIG / ~/.kube/config / the in-cluster account'}${access.context !== undefined ? ` (context ${access.context})` : ''}`);
      return { kc, core: kc.makeApiClient(k8s.CoreV1Api) };
    })();
    client.catch(() => clients.delete(key));
    clients.set(key, client);
  }
  return client;
}

/** An API error's status code and body (client-node's ApiException), or undefined for anything else. */
export function apiError(error: unknown): { code: number; body: unknown } | undefined {
  const e = error as { code?: unknown; body?: unknown };
  return typeof e?.code === 'number' && e.code >= 100 && e.code < 600 ? { code: e.code, body: e.body } : undefined;
}

/** Runs an API call; a 404 (already gone) is undefined, not an error. */
export async function unlessGone<T>(call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (error) {
    if (apiError(error)?.code === 404) return undefined;
    throw error;
  }
}

export type PodListener = (pod: V1Pod | undefined) => void;

/**
 * The fleet's pods in one namespace as the API last said. Listeners per pod name hear every
 * change, and `undefined` when the pod is deleted. The last state of a deleted pod is kept for
 * a while, so that how it ended can still be read.
 */
export class PodWatch {
  readonly #listeners = new Map<string, Set<PodListener>>();
  readonly #lastSeen = new Map<string, V1Pod>();
  #informer: (Informer<V1Pod> & ObjectCache<V1Pod>) | undefined;
  readonly started: Promise<void>;

  constructor(client: KubeClient, readonly namespace: string, readonly fleet: string) {
    this.started = this.#start(client);
  }

  async #start(client: KubeClient): Promise<void> {
    const k8s = await clientNode();
    const selector = fleetSelector(this.fleet);
    const informer = k8s.makeInformer(client.kc, `/api/v1/namespaces/${this.namespace}/pods`, () => client.core.listNamespacedPod({ namespace: this.namespace, labelSelector: selector }), selector);
    const changed = (pod: V1Pod): void => this.#tell(pod.metadata?.name, pod);
    informer.on('add', changed);
    informer.on('update', changed);
    informer.on('delete', (pod) => this.#tell(pod.metadata?.name, undefined, pod));
    informer.on('error', () => {
      // A dropped watch (apiserver restart, network, and client-node's own 30 s limit on each
      // watch request): list and watch again; the list tells what changed meanwhile.
      setTimeout(() => void informer.start().then(() => this.#relisted(), () => undefined), 1000).unref();
    });
    this.#informer = informer;
    await informer.start();
  }

  /** After a relist: a watched pod that is no longer listed was deleted while the watch was down. */
  #relisted(): void {
    for (const name of this.#listeners.keys()) if (this.get(name) === undefined) this.#tell(name, undefined);
  }

  #tell(name: string | undefined, pod: V1Pod | undefined, last?: V1Pod): void {
    if (name === undefined) return;
    if (pod !== undefined || last !== undefined) this.#lastSeen.set(name, (pod ?? last) as V1Pod);
    for (const listener of [...(this.#listeners.get(name) ?? [])]) listener(pod);
  }

  get(name: string): V1Pod | undefined {
    return this.#informer?.get(name, this.namespace);
  }

  /** The pod's last known state, also after it was deleted. */
  lastSeen(name: string): V1Pod | undefined {
    return this.get(name) ?? this.#lastSeen.get(name);
  }

  forget(name: string): void {
    this.#lastSeen.delete(name);
  }

  list(): readonly V1Pod[] {
    return this.#informer?.list(this.namespace) ?? [];
  }

  on(name: string, listener: PodListener): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) this.#listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(name);
    };
  }
}

const watches = new Map<string, Promise<PodWatch>>();
/** The watches that have started, for reads that must not wait (list, metrics). */
const started = new Map<string, PodWatch>();

/** The pod as the fleet's started watch last saw it; undefined while no watch of its namespace runs. */
export function watchedPod(ref: KubeAccess & { namespace: string; pod: string; fleet: string }): V1Pod | undefined {
  return started.get(`${siteKey(ref, ref.namespace)}\0${ref.fleet}`)?.get(ref.pod);
}

/** The one watch of this fleet's pods in `namespace`, started on first use. */
export function podWatch(access: KubeAccess, namespace: string, fleet: string): Promise<PodWatch> {
  const key = `${siteKey(access, namespace)}\0${fleet}`;
  let watch = watches.get(key);
  if (watch === undefined) {
    watch = kubeClient(access).then(async (client) => {
      const w = new PodWatch(client, namespace, fleet);
      await w.started;
      started.set(key, w);
      return w;
    });
    watch.catch(() => watches.delete(key));
    watches.set(key, watch);
  }
  return watch;
}
