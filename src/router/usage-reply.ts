/**
 * usage_reply, the control-channel reply of jupyter-resource-usage's kernel usage panel, built
 * by the router from the fleet's measurement of the backend's whole process group, so the
 * panel works for every backend (only ipykernel answers usage_request itself, and only for its
 * own process tree). Fields and units as ipykernel sends them (kernelbase.py usage_request).
 */
import type { BackendUsage } from '../shared/backend.js';

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
