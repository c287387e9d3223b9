/**
 * usage_reply, the control-channel reply of jupyter-resource-usage's kernel usage panel, built
 * by the router from the fleet's measurement of the backend's whole process group, so the
 * panel works for every backend (only ipykernel answers usage_request itself, and only for its
 * own process tree). Fields and units as ipykernel sends them (kernelbase.py usage_request).
 */
import type { BackendUsage } from '../shared/backend.js';
import { errorReplyContent } from './replies.js';

/** Pure: the reply content for a measured backend. */
export function usageReplyContent(usage: BackendUsage): Record<string, unknown> {
  return {
    hostname: usage.hostname,
    pid: usage.pid,
    // psutil's cpu_percent: 100 = one core, summed over the processes.
    kernel_cpu: Math.round(usage.cpuPercent * 10) / 10,
    kernel_memory: usage.residentBytes,
    ...(usage.hostCpuPercent === undefined ? {} : { host_cpu_percent: usage.hostCpuPercent }),
    cpu_count: usage.cpuCount,
    ...(usage.hostVirtualMemory === undefined ? {} : { host_virtual_memory: { ...usage.hostVirtualMemory } }),
  };
}

/** What answerUsage needs of a lease. */
export interface MeasuredBackend {
  readonly kernelId: string;
  usage?(): Promise<BackendUsage | undefined>;
}

/**
 * Answers a usage_request about `backend` (the session's default one, when ready) through
 * `answer`, once measured: the reply content, or the spec's error reply when there is nothing
 * to measure. False, with nothing answered, when the backend's directory measures nothing: the
 * request is then the backend's own.
 */
export function answerUsage(backend: MeasuredBackend | undefined, answer: (content: object) => void): boolean {
  if (backend !== undefined && backend.usage === undefined) return false;
  const measuring = backend?.usage?.().catch(() => undefined) ?? Promise.resolve(undefined);
  void measuring.then((usage) => {
    if (usage !== undefined) return answer(usageReplyContent(usage));
    const reason = backend === undefined ? 'no backend is running for this session yet' : `backend ${backend.kernelId} could not be measured (it has no process left)`;
    answer(errorReplyContent('FleetError', reason));
  });
  return true;
}
