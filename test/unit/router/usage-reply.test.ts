import { describe, expect, it } from 'vitest';
import type { BackendUsage } from '../../../src/shared/backend.js';
import { answerUsage, usageReplyContent, type MeasuredBackend } from '../../../src/router/usage-reply.js';

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

describe('answerUsage', () => {
  const failing = { kernelId: 'k', usage: () => Promise.reject(new Error('manager gone')) };
  it.each<[string, MeasuredBackend | undefined, object]>([
    ['a measured backend: its usage', { kernelId: 'k', usage: async () => measured }, usageReplyContent(measured)],
    ['a backend with no process left: the error reply', { kernelId: 'k', usage: async () => undefined }, { status: 'error', ename: 'FleetError', evalue: 'backend k could not be measured (it has no process left)' }],
    ['a failed measurement: the error reply', failing, { status: 'error', ename: 'FleetError' }],
    ['no backend ready: the error reply', undefined, { status: 'error', ename: 'FleetError', evalue: 'no backend is running for this session yet' }],
  ])('%s', async (_name, backend, expected) => {
    const content = await new Promise<object>((resolve) => expect(answerUsage(backend, resolve)).toBe(true));
    expect(content).toMatchObject(expected);
  });

  it('a backend whose directory measures nothing is left alone: false, nothing answered', () => {
    const answers: object[] = [];
    expect(answerUsage({ kernelId: 'k' }, (c) => answers.push(c))).toBe(false);
    expect(answers).toEqual([]);
  });
});
