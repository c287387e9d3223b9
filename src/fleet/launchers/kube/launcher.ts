/**
 * launcher = "kubernetes" (issue #11): a backend is a Pod, reached by the routers directly at
 * its address; its connection file (the HMAC key) and config env are a Secret mounted into it.
 *
 * Why a local stand-in process. Everything in the manager is built on one local pid per backend:
 * the registry, adoption after a restart, signals, the stop ladder, the exit that tells the
 * routers. Rather than teach each of those about pods, a pod backend gets a stand-in, a minimal
 * process (`sleep infinity` from PATH) spawned like any backend, whose life is tied to the pod's:
 * - the pod ends (fails, is evicted, OOM-killed, deleted from outside): the fleet's watch of the
 *   namespace (one per namespace and fleet, api.ts) ends the stand-in, so the manager sees an exit
 *   as for any backend, and `settleKube` says why by the pod's Kubernetes reason;
 * - the manager stops the backend (SIGTERM/SIGKILL): the pod is deleted and the stand-in ended;
 * - the manager dies: stand-in and pod live on; the next manager adopts the stand-in's pid from
 *   the registry and watches the pod again (a pod gone meanwhile ends the stand-in at once).
 * No signal crosses into a pod: interrupts go as messages (the plan forces interrupt_mode).
 *
 * CurveZMQ is on for pods unless the runtime says `curve = false` (kube-plan.ts podCurve): the
 * keys are in the connection file, so in the Secret, like the HMAC key.
 */
import { readFile } from 'node:fs/promises';
import type { V1Pod } from '@kubernetes/client-node';
import { FleetError } from '../../../shared/errors.js';
import { findExecutable } from '../../../shared/which.js';
import { parseConnectionInfo, type ConnectionInfo } from '../../../wire/connection-file.js';
import type { KubeRef, LaunchPlan } from '../../types.js';
import { apiError, clientNode, kubeClient, podWatch, unlessGone, type KubeClient } from './api.js';
import { apiRefusal, podProgress, type PodProgress, type Where } from './reasons.js';
import { buildPod, buildSecret, fleetLabel, podConnection, podName, secretName, usesHostNetwork } from './spec.js';

export interface KubeLaunch {
  argv: string[];
  configKey: string;
  kube: KubeRef;
  /** Where the routers connect: the pod's address. */
  connection: ConnectionInfo;
}

function spawnFailed(message: string, plan: LaunchPlan, extra: Record<string, unknown> = {}): FleetError {
  return new FleetError('SPAWN_FAILED', message, { kernelId: plan.kernelId, runtime: plan.requirement.runtime, provider: plan.requirement.provider, ...extra });
}

async function readTemplate(file: string, plan: LaunchPlan): Promise<V1Pod> {
  const key = `runtimes.${plan.requirement.runtime}.pod_template`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw spawnFailed(`${key} ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)}); create it or fix ${key}`, plan, { file, configKey: key });
  }
  let pod: unknown;
  try {
    pod = (await clientNode()).loadYaml(text);
  } catch (error) {
    throw spawnFailed(`${key} ${file} is not YAML or JSON: ${(error as Error).message.split('\n')[0]}; fix it`, plan, { file, configKey: key });
  }
  if (typeof pod !== 'object' || pod === null || Array.isArray(pod) || ((pod as V1Pod).kind !== undefined && (pod as V1Pod).kind !== 'Pod')) {
    throw spawnFailed(`${key} ${file} must hold one Pod (kind: Pod, with metadata and spec to start from)`, plan, { file, configKey: key });
  }
  return pod as V1Pod;
}

/** Creates the Secret and the Pod, waits for the pod to run; on any failure both are deleted again. */
export async function launchPod(plan: LaunchPlan, hostEnv: Record<string, string>): Promise<KubeLaunch> {
  const kube = plan.kube;
  if (kube === undefined) throw new TypeError('launchPod: the plan has no kubernetes part');
  const runtime = plan.requirement.runtime;
  const standIn = await findExecutable('sleep', hostEnv.PATH);
  if (standIn === undefined) throw spawnFailed('`sleep` is not on PATH: a pod backend has a `sleep infinity` process on this host standing for it; install coreutils', plan, { file: 'sleep' });
  const written = parseConnectionInfo(await readFile(plan.connectionFile, 'utf8'), plan.connectionFile);
  const template = kube.podTemplate !== undefined ? await readTemplate(kube.podTemplate, plan) : undefined;
  const names = { kernelId: plan.kernelId, runtime, provider: plan.requirement.provider, plan: kube };
  const pod = buildPod({ ...names, argv: plan.argv, envNames: Object.keys(plan.env), ...(template !== undefined ? { template } : {}) });
  const hostNetwork = usesHostNetwork(pod);
  const secret = buildSecret({ ...names, connection: podConnection(written, hostNetwork), env: plan.env });
  const ref: KubeRef = {
    namespace: kube.namespace,
    pod: podName(plan.kernelId),
    secret: secretName(podName(plan.kernelId)),
    fleet: fleetLabel(kube.home),
    ...(kube.kubeconfig !== undefined ? { kubeconfig: kube.kubeconfig } : {}),
    ...(kube.context !== undefined ? { context: kube.context } : {}),
    ...(kube.limits.memory_mb !== undefined ? { memoryMb: kube.limits.memory_mb } : {}),
  };
  const where: Where = { pod: ref.pod, namespace: ref.namespace, image: kube.image, runtime };
  const configKey = `runtimes.${runtime}.kubeconfig (or KUBECONFIG)`;

  let client: KubeClient;
  try {
    client = await kubeClient(kube);
    await podWatch(kube, ref.namespace, ref.fleet);
  } catch (error) {
    const refused = apiError(error);
    const said = refused !== undefined ? apiRefusal(refused.code, refused.body, `watching pods in ${ref.namespace}`, { namespace: ref.namespace, runtime }).message : `cannot reach the Kubernetes API: ${(error as Error).message}; check ${configKey} and runtimes.${runtime}.context`;
    throw spawnFailed(said, plan, { configKey, namespace: ref.namespace });
  }
  const refusal = (error: unknown, what: string): FleetError => {
    const refused = apiError(error);
    const r = apiRefusal(refused?.code, refused?.body ?? (error as Error).message, what, { namespace: ref.namespace, runtime });
    return spawnFailed(r.message, plan, { namespace: ref.namespace, pod: ref.pod, kubeReason: r.reason });
  };
  try {
    await client.core.createNamespacedSecret({ namespace: ref.namespace, body: secret });
  } catch (error) {
    throw refusal(error, `create secret ${ref.namespace}/${ref.secret}`);
  }
  try {
    try {
      await client.core.createNamespacedPod({ namespace: ref.namespace, body: pod });
    } catch (error) {
      throw refusal(error, `create pod ${ref.namespace}/${ref.pod}`);
    }
    const running = await untilRunning(ref, where, plan.startupTimeoutMs);
    if (running.state === 'failed') throw spawnFailed(running.message, plan, { namespace: ref.namespace, pod: ref.pod, kubeReason: running.reason, image: kube.image });
    const connection = running.hostNetwork ? { ...written, ip: '127.0.0.1' } : { ...written, ip: running.podIP };
    return { argv: [standIn, 'infinity'], configKey: 'PATH (sleep)', kube: ref, connection };
  } catch (error) {
    await deletePodAndSecret(ref, 0);
    deleting.delete(keyOf(ref));
    throw error;
  }
}

/** Resolves when the pod runs or has failed; a pod still starting after `timeoutMs` is a failure. */
async function untilRunning(ref: KubeRef, where: Where, timeoutMs: number): Promise<PodProgress & { state: 'running' | 'failed' }> {
  const watch = await podWatch(ref, ref.namespace, ref.fleet);
  return new Promise((resolve) => {
    let last = 'not yet seen';
    const check = (pod: V1Pod | undefined): void => {
      if (pod === undefined) {
        if (last !== 'not yet seen') done({ state: 'failed', reason: 'Deleted', message: `pod ${ref.namespace}/${ref.pod} was deleted from outside the fleet before it ran` });
        return;
      }
      const progress = podProgress(pod, where);
      if (progress.state === 'starting') last = progress.detail;
      else done(progress);
    };
    const timer = setTimeout(
      () => done({ state: 'failed', reason: 'Timeout', message: `pod ${ref.namespace}/${ref.pod} did not run within ${timeoutMs} ms (still ${last}); raise runtimes.${where.runtime}.startup_timeout, or see kubectl -n ${ref.namespace} describe pod ${ref.pod}` }),
      timeoutMs,
    );
    const off = watch.on(ref.pod, check);
    function done(result: PodProgress & { state: 'running' | 'failed' }): void {
      clearTimeout(timer);
      off();
      resolve(result);
    }
    check(watch.get(ref.pod));
  });
}

/** Pods the fleet itself is deleting: their end is a stop, not "deleted from outside". */
const deleting = new Set<string>();
const keyOf = (ref: KubeRef): string => `${ref.namespace}/${ref.pod}`;

/** Deletes pod and Secret (gone already is fine); never rejects. */
export async function deletePodAndSecret(ref: KubeRef, graceSeconds?: number): Promise<void> {
  deleting.add(keyOf(ref));
  try {
    const { core } = await kubeClient(ref);
    await Promise.all([
      unlessGone(() => core.deleteNamespacedPod({ name: ref.pod, namespace: ref.namespace, ...(graceSeconds !== undefined ? { gracePeriodSeconds: graceSeconds } : {}) })),
      unlessGone(() => core.deleteNamespacedSecret({ name: ref.secret, namespace: ref.namespace })),
    ]);
  } catch {
    // The API is unreachable: cleanup (or the next manager's start) deletes them by label.
  }
}

export { deleting as fleetDeletions, keyOf as podKey };
