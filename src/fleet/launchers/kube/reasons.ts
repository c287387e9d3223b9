/**
 * Kubernetes backends, the pure half of "why": what a pod's status means while the launcher
 * waits for it to run (still starting, running at an address, or failed with which reason), how
 * a refused create is worded, and how a pod that ran has ended. Every message names the
 * Kubernetes reason, so the user can search for it, and says what to do.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { KERNEL_CONTAINER } from './spec.js';

export type PodProgress =
  | { state: 'starting'; detail: string }
  | { state: 'running'; podIP: string; hostNetwork: boolean }
  | { state: 'failed'; reason: string; message: string };

const IMAGE_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName', 'ImageInspectError', 'RegistryUnavailable']);
const CONFIG_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError', 'CrashLoopBackOff']);

export interface Where {
  pod: string;
  namespace: string;
  image: string;
  runtime: string;
}

function imageHint(reason: string, w: Where): string {
  const missing = reason === 'ErrImageNeverPull' ? 'is not on the node and its pull policy is Never' : 'could not be pulled';
  return `image ${w.image} ${missing} (${reason}); load it on the node or fix runtimes.${w.runtime}.image`;
}

/** Pure: what a pod's status says while the launcher waits for it to run. */
export function podProgress(pod: V1Pod, w: Where): PodProgress {
  const status = pod.status ?? {};
  const phase = status.phase ?? 'Pending';
  const where = `pod ${w.namespace}/${w.pod}`;
  const containers = status.containerStatuses ?? [];
  // The init container (the connection file's copy, with curve) fails the same ways, first.
  const all = [...(status.initContainerStatuses ?? []), ...containers];
  for (const c of all) {
    const waiting = c.state?.waiting;
    if (waiting?.reason === undefined) continue;
    if (IMAGE_REASONS.has(waiting.reason)) return { state: 'failed', reason: waiting.reason, message: `${where}: ${imageHint(waiting.reason, w)}${waiting.message ? `: ${waiting.message}` : ''}` };
    if (CONFIG_REASONS.has(waiting.reason)) {
      return { state: 'failed', reason: waiting.reason, message: `${where} could not start its container (${waiting.reason}): ${waiting.message ?? 'no message'}; check runtimes.${w.runtime}.argv and its pod_template` };
    }
  }
  if (phase === 'Failed' || phase === 'Succeeded') {
    const term = all.map((c) => c.state?.terminated).find((t) => t !== undefined && (t.exitCode ?? 0) !== 0) ?? containers.map((c) => c.state?.terminated).find((t) => t !== undefined);
    const reason = status.reason ?? term?.reason ?? phase;
    const code = term?.exitCode !== undefined ? ` with exit code ${term.exitCode}` : '';
    const said = status.message ?? term?.message;
    return { state: 'failed', reason, message: `${where} ended before it ran the kernel (${reason}${code})${said ? `: ${said}` : ''}; read its log with kubectl -n ${w.namespace} logs ${w.pod}, or check runtimes.${w.runtime}.argv` };
  }
  const unschedulable = (status.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
  if (unschedulable !== undefined) {
    return { state: 'failed', reason: 'Unschedulable', message: `${where} cannot be scheduled (Unschedulable): ${unschedulable.message ?? 'no node fits'}; lower the runtime's memory_mb/cpus or change its node_selector` };
  }
  if (phase === 'Running') {
    const ip = status.podIP ?? status.hostIP;
    const ready = containers.find((c) => c.name !== undefined)?.state?.running !== undefined || containers.length === 0;
    if (ip !== undefined && ready) return { state: 'running', podIP: ip, hostNetwork: pod.spec?.hostNetwork === true };
  }
  const waiting = all.map((c) => c.state?.waiting?.reason).find((r) => r !== undefined);
  return { state: 'starting', detail: `${phase}${waiting !== undefined ? ` (${waiting})` : ''}` };
}

/** Pure: the status code and body of a refused API call, worded; `what` is e.g. "create pod ns/name". */
export function apiRefusal(code: number | undefined, body: unknown, what: string, hint: { namespace: string; runtime: string }): { reason: string; message: string } {
  const parsed = typeof body === 'string' ? safeJson(body) : body;
  const status = (parsed ?? {}) as { reason?: string; message?: string };
  const said = status.message ?? (typeof body === 'string' && body.length > 0 ? body.slice(0, 300) : 'no message');
  const reason = status.reason ?? (code !== undefined ? `HTTP ${code}` : 'Unreachable');
  if (code === 403 && /exceeded quota/i.test(said)) {
    return { reason: 'QuotaExceeded', message: `${what} refused: quota exceeded in namespace ${hint.namespace} (${said}); stop other backends or lower runtimes.${hint.runtime}.memory_mb/cpus` };
  }
  if (code === 403) return { reason, message: `${what} refused (${reason}): ${said}; give the manager's account the Role of examples/kubernetes/rbac.yaml in namespace ${hint.namespace}` };
  if (code === 401) return { reason, message: `${what} refused (${reason}): the kubeconfig's credentials were not accepted; renew its token or set runtimes.${hint.runtime}.kubeconfig` };
  if (code === 404) return { reason, message: `${what} failed (${reason}): ${said}; create namespace ${hint.namespace} or change runtimes.${hint.runtime}.namespace` };
  if (code === undefined) return { reason, message: `${what} failed: the Kubernetes API did not answer (${said}); check the kubeconfig (runtimes.${hint.runtime}.kubeconfig/context, KUBECONFIG)` };
  return { reason, message: `${what} failed (${reason}): ${said}` };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface PodEnd {
  reason: string;
  cause: string;
  exitCode: number | null;
}

/**
 * Pure: how a pod backend ended, from the pod's last status (undefined: the pod is gone and was
 * not deleted by the fleet). Undefined when nothing is known beyond what the manager asked for.
 */
export function podEnd(pod: V1Pod | undefined, memoryMb: number | undefined): PodEnd | undefined {
  if (pod === undefined) return { reason: 'deleted', cause: 'its pod was deleted from outside the fleet', exitCode: null };
  const status = pod.status ?? {};
  const term = (status.containerStatuses ?? []).map((c) => c.state?.terminated ?? c.lastState?.terminated).find((t) => t !== undefined);
  const exitCode = term?.exitCode ?? null;
  if (term?.reason === 'OOMKilled') {
    const limit = memoryMb !== undefined ? `memory limit ${memoryMb} MB reached` : 'out of memory';
    return { reason: memoryMb !== undefined ? 'memory-limit' : 'oom-killed', cause: `killed: ${limit} (OOMKilled)`, exitCode };
  }
  if (status.reason === 'Evicted') return { reason: 'evicted', cause: `its pod was evicted (Evicted): ${status.message ?? 'the node ran short of resources'}`, exitCode };
  if (pod.metadata?.deletionTimestamp !== undefined) return { reason: 'deleted', cause: 'its pod was deleted from outside the fleet', exitCode };
  if (term !== undefined && (term.exitCode ?? 0) !== 0) return { reason: 'exited', cause: `its pod's container ended (${term.reason ?? 'Error'}) with exit code ${term.exitCode}`, exitCode };
  return undefined;
}

/** What `list` and /metrics show of a pod backend's pod: what the API says for free (no metrics-server). */
export interface PodStatusSummary {
  phase?: string;
  /** Restarts of the kernel's container (restartPolicy Never: any is a surprise). */
  restarts: number;
  node?: string;
}

/** Pure: phase, the kernel container's restart count, and node of a pod. */
export function podStatusSummary(pod: V1Pod): PodStatusSummary {
  const statuses = pod.status?.containerStatuses ?? [];
  const kernel = statuses.find((c) => c.name === KERNEL_CONTAINER) ?? statuses[0];
  return {
    ...(pod.status?.phase !== undefined ? { phase: pod.status.phase } : {}),
    restarts: kernel?.restartCount ?? 0,
    ...(pod.spec?.nodeName !== undefined ? { node: pod.spec.nodeName } : {}),
  };
}
