/**
 * Kubernetes backends (issue #11), the pure half: the Pod and Secret for a launch plan, the
 * names and labels that tie them to a fleet and a kernel, and the connection file the kernel in
 * the pod reads. No I/O and no @kubernetes/client-node here (types only): the manager loads
 * the client lazily (api.ts).
 *
 * The connection file, with its HMAC key, is the Secret's `connection.json`, mounted read-only
 * at POD_CONNECTION_FILE; config env values (provider keys) are Secret keys too, referenced
 * by name. Neither ever appears in the pod spec or as a literal env value.
 */
import { createHash } from 'node:crypto';
import type { V1Pod, V1Secret } from '@kubernetes/client-node';
import type { ConnectionInfo } from '../../../wire/connection-file.js';
import type { BackendLimits, KubePlan } from '../../types.js';

export const POD_CONNECTION_DIR = '/etc/llmspell-fleet';
export const POD_CONNECTION_FILE = `${POD_CONNECTION_DIR}/connection.json`;
export const KERNEL_CONTAINER = 'kernel';
/** KubePlan.kernelCopy: the kernel's writable copy, in an in-memory volume (the key stays off the node's disk). */
export const POD_KERNEL_DIR = '/run/llmspell-fleet';
export const POD_KERNEL_FILE = `${POD_KERNEL_DIR}/connection.json`;
const COPY_CONTAINER = 'llmspell-connection-copy';
const CONNECTION_VOLUME = 'llmspell-connection';
const KERNEL_VOLUME = 'llmspell-kernel-dir';

/** Pure: where the kernel's command finds its connection file. */
export function podKernelFile(plan: Pick<KubePlan, 'kernelCopy'>): string {
  return plan.kernelCopy === true ? POD_KERNEL_FILE : POD_CONNECTION_FILE;
}

export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'llmspell-fleet';
export const LABEL_FLEET = 'llmspell-fleet/fleet';
export const LABEL_KERNEL_ID = 'llmspell-fleet/kernel-id';
export const LABEL_RUNTIME = 'llmspell-fleet/runtime';
export const LABEL_PROVIDER = 'llmspell-fleet/provider';
export const LABEL_OWNER = 'llmspell-fleet/owner';

/** The fleet label's value: a hash of the fleet home (a path is no label value; two homes never share one). */
export function fleetLabel(home: string): string {
  return createHash('sha256').update(home).digest('hex').slice(0, 16);
}

/** The label selector for one fleet's pods and Secrets. */
export function fleetSelector(fleet: string): string {
  return `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_FLEET}=${fleet}`;
}

/** Pure: a label value (at most 63 of [A-Za-z0-9-_.], alphanumeric at both ends) for any text. */
export function labelValue(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** Pure: `llmspell-<kernel id>` as a DNS-1123 name (lower case; "_" and "." become "-"). */
export function podName(kernelId: string): string {
  return `llmspell-${kernelId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63).replace(/-+$/, '');
}

export function secretName(pod: string): string {
  return `${pod}-connection`;
}

/** Secret keys for config env values: `env.NAME` (NAME is already [A-Za-z_][A-Za-z0-9_]*). */
function envKey(name: string): string {
  return `env.${name}`;
}

/**
 * Pure: the connection file as the kernel in the pod reads it. A hostNetwork pod shares the
 * node's network: it binds loopback, as a process backend does, and is reached on 127.0.0.1
 * (so hostNetwork is for a node on the manager's host). Any other pod binds all its addresses
 * and is reached on its pod IP.
 */
export function podConnection(connection: ConnectionInfo, hostNetwork: boolean): ConnectionInfo {
  return { ...connection, ip: hostNetwork ? '127.0.0.1' : '0.0.0.0' };
}

/** Pure: resources from the limits; memory as both request and limit, so the pod is what it asks for. */
export function podResources(limits: BackendLimits): { limits?: Record<string, string>; requests?: Record<string, string> } {
  const set: Record<string, string> = {};
  if (limits.memory_mb !== undefined) set.memory = `${Math.ceil(limits.memory_mb)}Mi`;
  if (limits.cpus !== undefined) set.cpu = `${Math.round(limits.cpus * 1000)}m`;
  return Object.keys(set).length === 0 ? {} : { limits: { ...set }, requests: { ...set } };
}

export interface PodInput {
  plan: KubePlan;
  kernelId: string;
  runtime: string;
  provider: string;
  /** The command in the image, its connection file at POD_CONNECTION_FILE. */
  argv: readonly string[];
  /** Config env (provider keys): only the names reach the pod spec. */
  envNames: readonly string[];
  /** The parsed pod_template file, if any. */
  template?: V1Pod;
}

export function podLabels(input: Pick<PodInput, 'plan' | 'kernelId' | 'runtime' | 'provider'>): Record<string, string> {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_FLEET]: fleetLabel(input.plan.home),
    [LABEL_KERNEL_ID]: labelValue(input.kernelId),
    [LABEL_RUNTIME]: labelValue(input.runtime),
    [LABEL_PROVIDER]: labelValue(input.provider),
    [LABEL_OWNER]: labelValue(input.plan.owner),
  };
}

/** Pure: whether a pod (template or final) runs on the node's network. */
export function usesHostNetwork(pod: V1Pod | undefined): boolean {
  return pod?.spec?.hostNetwork === true;
}

/**
 * Pure: the Pod. The template gives anything the launcher does not set (nodeName, tolerations,
 * hostNetwork, more containers, more env); what the launcher sets wins: name, namespace, labels,
 * the kernel container's image, command, resources, the connection volume.
 */
export function buildPod(input: PodInput): V1Pod {
  const { plan, template } = input;
  const name = podName(input.kernelId);
  const tSpec = template?.spec ?? { containers: [] };
  const tContainers = tSpec.containers ?? [];
  const tKernel = tContainers.find((c) => c.name === KERNEL_CONTAINER) ?? tContainers[0] ?? { name: KERNEL_CONTAINER };
  const secret = secretName(name);
  const resources = podResources(plan.limits);
  const kernel = {
    ...tKernel,
    name: KERNEL_CONTAINER,
    image: plan.image,
    // Images are not pulled by the fleet: one the node lacks fails with ErrImageNeverPull unless the template says otherwise.
    imagePullPolicy: tKernel.imagePullPolicy ?? 'IfNotPresent',
    command: [...input.argv],
    args: [],
    env: [
      ...(tKernel.env ?? []).filter((e) => !input.envNames.includes(e.name)),
      ...input.envNames.map((n) => ({ name: n, valueFrom: { secretKeyRef: { name: secret, key: envKey(n) } } })),
    ],
    volumeMounts: [
      ...(tKernel.volumeMounts ?? []).filter((m) => m.name !== CONNECTION_VOLUME && m.name !== KERNEL_VOLUME),
      { name: CONNECTION_VOLUME, mountPath: POD_CONNECTION_DIR, readOnly: true },
      ...(plan.kernelCopy === true ? [{ name: KERNEL_VOLUME, mountPath: POD_KERNEL_DIR }] : []),
    ],
    ...(resources.limits !== undefined ? { resources: { ...tKernel.resources, ...resources } } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...template?.metadata,
      name,
      namespace: plan.namespace,
      labels: { ...template?.metadata?.labels, ...podLabels(input) },
    },
    spec: {
      // Without a controller-manager there is no root CA configmap to mount, and a kernel needs no API token.
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 5,
      ...tSpec,
      // The manager decides about restarts (a new backend); the kubelet must not restart it behind the router's back.
      restartPolicy: 'Never',
      ...(plan.nodeSelector !== undefined ? { nodeSelector: { ...tSpec.nodeSelector, ...plan.nodeSelector } } : {}),
      ...(plan.serviceAccount !== undefined ? { serviceAccountName: plan.serviceAccount } : {}),
      ...(plan.kernelCopy === true ? { initContainers: [...(tSpec.initContainers ?? []).filter((c) => c.name !== COPY_CONTAINER), copyContainer(plan.image)] } : {}),
      containers: [kernel, ...tContainers.filter((c) => c !== tKernel)],
      volumes: [
        ...(tSpec.volumes ?? []).filter((v) => v.name !== CONNECTION_VOLUME && v.name !== KERNEL_VOLUME),
        { name: CONNECTION_VOLUME, secret: { secretName: secret, defaultMode: 0o400 } },
        ...(plan.kernelCopy === true ? [{ name: KERNEL_VOLUME, emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } }] : []),
      ],
    },
  };
}

/**
 * The copy is made by the kernel's own image (coreutils' install; no other image need be on the node),
 * as argv without a shell: nothing is interpolated.
 */
function copyContainer(image: string): NonNullable<NonNullable<V1Pod['spec']>['initContainers']>[number] {
  return {
    name: COPY_CONTAINER,
    image,
    imagePullPolicy: 'IfNotPresent',
    // install, not cp: the Secret's file is 0400, and ipykernel must be able to rewrite its copy.
    command: ['install', '-m', '600', POD_CONNECTION_FILE, POD_KERNEL_FILE],
    volumeMounts: [
      { name: CONNECTION_VOLUME, mountPath: POD_CONNECTION_DIR, readOnly: true },
      { name: KERNEL_VOLUME, mountPath: POD_KERNEL_DIR },
    ],
  };
}

/** Pure: the Secret: the connection file and the config env values, labelled like the pod. */
export function buildSecret(input: Pick<PodInput, 'plan' | 'kernelId' | 'runtime' | 'provider'> & { connection: ConnectionInfo; env: Record<string, string> }): V1Secret {
  const stringData: Record<string, string> = { 'connection.json': JSON.stringify(input.connection) };
  for (const [k, v] of Object.entries(input.env)) stringData[envKey(k)] = v;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName(podName(input.kernelId)), namespace: input.plan.namespace, labels: podLabels(input) },
    type: 'Opaque',
    stringData,
  };
}
