/**
 * A pod backend after its start (see launcher.ts for the stand-in design): its stand-in tied to
 * the pod, signals turned into deletes, how it ended read from the pod's last status, its log,
 * and the sweep that deletes the fleet's pods and Secrets no backend owns.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { BackendExit } from '../../../shared/backend.js';
import type { KubeAccess, KubeRef } from '../../types.js';
import { kubeClient, podWatch, siteKey, unlessGone } from './api.js';
import { deletePodAndSecret, fleetDeletions, podKey } from './launcher.js';
import { podEnd } from './reasons.js';
import { KERNEL_CONTAINER, fleetSelector, secretName } from './spec.js';

function ended(pod: V1Pod | undefined): boolean {
  const phase = pod?.status?.phase;
  return pod === undefined || phase === 'Failed' || phase === 'Succeeded';
}

/**
 * Ends the stand-in (`end`) when the pod ends or is deleted, also when that happened while no
 * manager watched (adoption). A watch that cannot start leaves the stand-in alone: the backend
 * stays as it is, and a stop still deletes the pod.
 */
export async function tieStandIn(ref: KubeRef, end: () => void): Promise<void> {
  const watch = await podWatch(ref, ref.namespace, ref.fleet);
  const off = watch.on(ref.pod, (pod) => {
    if (!ended(pod)) return;
    off();
    end();
  });
  if (ended(watch.get(ref.pod))) {
    off();
    end();
  }
}

/**
 * A signal for a pod backend: SIGTERM and SIGKILL delete the pod (SIGKILL at once, SIGTERM with
 * its grace period) and end the stand-in; nothing else crosses into a pod (false: not sent).
 */
export function signalKube(ref: KubeRef, signal: NodeJS.Signals, signalStandIn: (signal: NodeJS.Signals) => boolean): boolean {
  if (signal !== 'SIGTERM' && signal !== 'SIGKILL') return false;
  // deletePodAndSecret marks the pod as the fleet's own deletion before its first await.
  void deletePodAndSecret(ref, signal === 'SIGKILL' ? 0 : undefined);
  return signalStandIn(signal);
}

const GONE_WAIT_MS = 30_000;

/**
 * After the stand-in ended: why, by the pod's Kubernetes reason (unless the fleet deleted it),
 * then pod and Secret deleted, waiting (bounded) until the pod is gone, so its kernel no longer
 * holds its ports. Never rejects.
 */
export async function settleKube(ref: KubeRef): Promise<Partial<Pick<BackendExit, 'reason' | 'cause' | 'exitCode'>>> {
  try {
    const watch = await podWatch(ref, ref.namespace, ref.fleet);
    const last = watch.lastSeen(ref.pod) ?? (await unlessGone(async () => (await kubeClient(ref)).core.readNamespacedPod({ name: ref.pod, namespace: ref.namespace })));
    const byFleet = fleetDeletions.has(podKey(ref));
    const end = byFleet ? undefined : podEnd(last, ref.memoryMb);
    await deletePodAndSecret(ref);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(finish, GONE_WAIT_MS);
      const off = watch.on(ref.pod, (pod) => {
        if (pod === undefined) finish();
      });
      if (watch.get(ref.pod) === undefined) finish();
      function finish(): void {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
    watch.forget(ref.pod);
    fleetDeletions.delete(podKey(ref));
    return end === undefined ? {} : { reason: end.reason, cause: end.cause, exitCode: end.exitCode };
  } catch {
    return {};
  }
}

/** The last `tail` lines the kernel container wrote, from the API. */
export async function podLog(ref: KubeRef, tail: number): Promise<string> {
  const { core } = await kubeClient(ref);
  const text = await unlessGone(() => core.readNamespacedPodLog({ name: ref.pod, namespace: ref.namespace, container: KERNEL_CONTAINER, tailLines: tail }));
  return typeof text === 'string' ? text : '';
}

export interface KubeSite extends KubeAccess {
  namespace: string;
}

/**
 * Deletes this fleet's pods and Secrets in these namespaces that no backend owns (`keep`: pod
 * names of the live ones; a Secret is kept with its pod). Returns "namespace/name" of each one
 * deleted. A namespace the API refuses is skipped.
 */
export async function sweepPods(fleet: string, sites: readonly KubeSite[], keep: ReadonlySet<string>): Promise<string[]> {
  const removed: string[] = [];
  const seen = new Set<string>();
  for (const site of sites) {
    const key = siteKey(site, site.namespace);
    if (seen.has(key)) continue;
    seen.add(key);
    try {
      const { core } = await kubeClient(site);
      const labelSelector = fleetSelector(fleet);
      const [pods, secrets] = await Promise.all([core.listNamespacedPod({ namespace: site.namespace, labelSelector }), core.listNamespacedSecret({ namespace: site.namespace, labelSelector })]);
      const podsGone = pods.items.map((p) => p.metadata?.name ?? '').filter((n) => n !== '' && !keep.has(n));
      const keepSecrets = new Set([...keep].map(secretName));
      const secretsGone = secrets.items.map((s) => s.metadata?.name ?? '').filter((n) => n !== '' && !keepSecrets.has(n));
      await Promise.all([
        ...podsGone.map(async (name) => {
          await unlessGone(() => core.deleteNamespacedPod({ name, namespace: site.namespace, gracePeriodSeconds: 0 }));
          removed.push(`${site.namespace}/pod/${name}`);
        }),
        ...secretsGone.map(async (name) => {
          await unlessGone(() => core.deleteNamespacedSecret({ name, namespace: site.namespace }));
          removed.push(`${site.namespace}/secret/${name}`);
        }),
      ]);
    } catch {
      // unreachable or refused: nothing to sweep here now
    }
  }
  return removed.sort();
}
