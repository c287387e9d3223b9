/**
 * launcher = "kubernetes" in the launch plan: argv as the pod runs it (its connection file is
 * the mounted Secret's), the limits a pod can have, and where the API is. Pure but for the
 * user's name.
 */
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { FleetError } from '../../../shared/errors.js';
import type { Requirement } from '../../../shared/requirement.js';
import { expandHome } from '../../paths.js';
import type { BackendLimits, KubePlan, RuntimeConfig } from '../../types.js';

export const DEFAULT_NAMESPACE = 'default';

function owner(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid-${process.getuid?.() ?? 'unknown'}`;
  }
}

export interface KubePlanInput {
  rt: RuntimeConfig;
  req: Requirement;
  limits: BackendLimits;
  home: string;
  /** The user's home, for "~" in file paths. */
  userHome: string | undefined;
  where: string;
}

/**
 * Pure but for the user name: the kubernetes part of a plan. cpu_seconds and pids have no pod
 * setting (Kubernetes has no per-pod CPU-time budget; pod pid limits are the kubelet's), so they
 * are config errors naming the key, as cpu_seconds is for containers.
 *
 * CurveZMQ is on unless the runtime says `curve = false` (podCurve): a pod is off the manager's
 * host as a rule, so its traffic crosses the network.
 */
/**
 * Pure: a file named in a kubernetes runtime (kubeconfig, pod_template) as the launcher reads it:
 * "~/" expanded, then absolute. One spelling for the plan and the sweep, whose watch and client
 * are keyed by this path (api.ts siteKey), so one file never gets two informers.
 */
export function kubeFile(p: string, userHome?: string): string {
  return resolve(expandHome(p, userHome));
}

export function kubePlanFor(input: KubePlanInput): KubePlan {
  const { rt, req, limits } = input;
  for (const key of ['cpu_seconds', 'pids'] as const) {
    if (limits[key] === undefined) continue;
    throw new FleetError(
      'BAD_CONFIG',
      `${key} cannot be enforced on a pod (runtime "${req.runtime}" has launcher = "kubernetes"); remove ${key} from runtimes.${req.runtime} / providers.${req.provider} in ${input.where}${key === 'cpu_seconds' ? ', or use cpus' : ''}`,
      { runtime: req.runtime, provider: req.provider, configKey: key },
    );
  }
  const file = (p: string | undefined): string | undefined => (p === undefined ? undefined : kubeFile(p, input.userHome));
  const podTemplate = file(rt.pod_template);
  const kubeconfig = file(rt.kubeconfig);
  return {
    image: rt.image as string,
    namespace: rt.namespace ?? DEFAULT_NAMESPACE,
    limits,
    home: input.home,
    owner: owner(),
    ...(rt.node_selector !== undefined ? { nodeSelector: { ...rt.node_selector } } : {}),
    ...(rt.service_account !== undefined ? { serviceAccount: rt.service_account } : {}),
    ...(podTemplate !== undefined ? { podTemplate } : {}),
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(rt.context !== undefined ? { context: rt.context } : {}),
    ...(podCurve(rt) ? { kernelCopy: true } : {}),
  };
}

/** Pure: whether a pod backend's link is encrypted: by default yes; `curve = false` turns it off (a node on the manager's host). */
export function podCurve(rt: Pick<RuntimeConfig, 'curve'>): boolean {
  return rt.curve !== false;
}
