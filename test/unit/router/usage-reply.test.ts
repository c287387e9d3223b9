import { describe, expect, it } from 'vitest';
import type { BackendUsage } from '../../../src/shared/backend.js';
import { usageReplyContent } from '../../../src/router/usage-reply.js';

const measured: BackendUsage = {
  pid: 4242,
  hostname: 'box',
  processes: 3,
  residentBytes: 123_456_789,
  cpuPercent: 12.345,
  hostCpuPercent: 7.5,
  cpuCount: 8,
  hostVirtualMemory: { total: 1000, available: 600, percent: 40, used: 400, free: 200 },
};

describe('usageReplyContent', () => {
  it.each([
    [
      "every field in ipykernel's names and units",
      measured,
      { hostname: 'box', pid: 4242, kernel_cpu: 12.3, kernel_memory: 123_456_789, host_cpu_percent: 7.5, cpu_count: 8, host_virtual_memory: { total: 1000, available: 600, percent: 40, used: 400, free: 200 } },
    ],
    [
      'host figures the fleet could not read are left out, as ipykernel leaves them out',
      { ...measured, hostCpuPercent: undefined, hostVirtualMemory: undefined },
      { hostname: 'box', pid: 4242, kernel_cpu: 12.3, kernel_memory: 123_456_789, cpu_count: 8 },
    ],
  ])('%s', (_name, usage, expected) => {
    expect(usageReplyContent(usage)).toStrictEqual(expected);
  });
});
