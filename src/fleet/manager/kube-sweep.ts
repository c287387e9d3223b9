/**
 * Pod backends in the manager's chores: where the fleet's pods can be (the namespaces of the
 * kubernetes runtimes in the config, and of the backends it holds), and the sweep, at manager
 * start and in `cleanup`, of the pods and Secrets with this fleet's label that no backend owns.
 */
import { tieStandIn, sweepPods, type KubeSite } from '../launchers/kube/lifecycle.js';
import { DEFAULT_NAMESPACE, kubeFile } from '../launchers/kube/kube-plan.js';
import { fleetLabel } from '../launchers/kube/spec.js';
import { resolve } from 'node:path';
import type { FleetConfig } from '../types.js';
import type { ManagedBackend } from './entry.js';
import { killGroup } from './proc.js';

/** Pure: the namespaces (with kubeconfig and context) the fleet's pods may be in. */
export function kubeSites(config: FleetConfig | undefined, backends: Iterable<ManagedBackend>, userHome?: string): KubeSite[] {
  const sites: KubeSite[] = [];
  for (const rt of Object.values(config?.runtimes ?? {})) {
    if (rt.launcher !== 'kubernetes') continue;
    sites.push({
      namespace: rt.namespace ?? DEFAULT_NAMESPACE,
      ...(rt.kubeconfig !== undefined ? { kubeconfig: kubeFile(rt.kubeconfig, userHome) } : {}),
      ...(rt.context !== undefined ? { context: rt.context } : {}),
    });
  }
  for (const b of backends) {
    const ref = b.init.kube;
    if (ref !== undefined) sites.push({ namespace: ref.namespace, ...(ref.kubeconfig !== undefined ? { kubeconfig: ref.kubeconfig } : {}), ...(ref.context !== undefined ? { context: ref.context } : {}) });
  }
  return sites;
}

/** Deletes the fleet's pods and Secrets no backend here owns; gives up after `timeoutMs` (an API that does not answer). */
export async function sweepFleetPods(home: string, config: FleetConfig | undefined, backends: readonly ManagedBackend[], timeoutMs = 15_000): Promise<string[]> {
  const sites = kubeSites(config, backends);
  if (sites.length === 0) return [];
  const keep = new Set(backends.flatMap((b) => (b.init.kube !== undefined ? [b.init.kube.pod] : [])));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((resolve) => (timer = setTimeout(() => resolve([]), timeoutMs)));
  try {
    return await Promise.race([sweepPods(fleetLabel(resolve(home)), sites, keep), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** An adopted pod backend: its stand-in ends with the pod again (at once, when the pod went while no manager watched). */
export function watchAdoptedPod(backend: ManagedBackend, onError: (error: unknown) => void): void {
  const ref = backend.init.kube;
  if (ref === undefined) return;
  void tieStandIn(ref, () => killGroup(backend.pid, 'SIGTERM', backend.init.procStart)).catch(onError);
}
