import type { V1Pod, V1PodStatus } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { apiRefusal, podEnd, podProgress, podStatusSummary } from '../../../../src/fleet/launchers/kube/reasons.js';

const WHERE = { pod: 'llmspell-k1', namespace: 'kernels', image: 'localhost/k:1', runtime: 'pyk' };
const pod = (status: V1PodStatus, extra: Partial<V1Pod> = {}): V1Pod => ({ metadata: { name: 'llmspell-k1' }, spec: { containers: [] }, status, ...extra });
const waiting = (reason: string, message?: string): V1PodStatus => ({ phase: 'Pending', containerStatuses: [{ name: 'kernel', image: 'i', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason, ...(message ? { message } : {}) } } }] });
const terminated = (reason: string, exitCode: number, phase = 'Failed'): V1PodStatus => ({ phase, containerStatuses: [{ name: 'kernel', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { reason, exitCode } } }] });
const running: V1PodStatus = { phase: 'Running', podIP: '10.1.2.3', containerStatuses: [{ name: 'kernel', image: 'i', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] };

describe('podProgress: a pod while the launcher waits for it', () => {
  it.each([
    ['no status yet', pod({}), { state: 'starting', detail: 'Pending' }],
    ['creating its container', pod(waiting('ContainerCreating')), { state: 'starting', detail: 'Pending (ContainerCreating)' }],
    ['running with an IP', pod(running), { state: 'running', podIP: '10.1.2.3', hostNetwork: false }],
    ['running on the host network', pod({ ...running, podIP: '192.0.2.1' }, { spec: { containers: [], hostNetwork: true } }), { state: 'running', podIP: '192.0.2.1', hostNetwork: true }],
    ['its init container (the connection file copy) still starting', pod({ phase: 'Pending', initContainerStatuses: waiting('PodInitializing').containerStatuses! }), { state: 'starting', detail: 'Pending (PodInitializing)' }],
    ['Running but no address yet', pod({ ...running, podIP: undefined }), { state: 'starting', detail: 'Running' }],
  ])('%s', (_name, p, progress) => {
    expect(podProgress(p, WHERE)).toEqual(progress);
  });

  it.each([
    ['ErrImageNeverPull', pod(waiting('ErrImageNeverPull', 'Container image "localhost/k:1" is not present with pull policy of Never')), /image localhost\/k:1 is not on the node .*\(ErrImageNeverPull\).*fix runtimes\.pyk\.image/],
    ['ErrImageNeverPull', pod({ phase: 'Pending', initContainerStatuses: waiting('ErrImageNeverPull').containerStatuses!, containerStatuses: waiting('PodInitializing').containerStatuses! }), /image localhost\/k:1 is not on the node .*\(ErrImageNeverPull\)/],
    ['Error', pod({ phase: 'Failed', initContainerStatuses: terminated('Error', 127).containerStatuses!, containerStatuses: waiting('PodInitializing').containerStatuses! }), /ended before it ran the kernel \(Error with exit code 127\)/],
    ['ErrImagePull', pod(waiting('ErrImagePull')), /image localhost\/k:1 could not be pulled \(ErrImagePull\)/],
    ['ImagePullBackOff', pod(waiting('ImagePullBackOff')), /\(ImagePullBackOff\)/],
    ['CreateContainerConfigError', pod(waiting('CreateContainerConfigError', 'secret "x" not found')), /could not start its container \(CreateContainerConfigError\): secret "x" not found/],
    ['Unschedulable', pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes have enough memory' }] }), /cannot be scheduled \(Unschedulable\): 0\/3 nodes have enough memory; lower the runtime's memory_mb/],
    ['Error', pod(terminated('Error', 2)), /ended before it ran the kernel \(Error with exit code 2\).*kubectl -n kernels logs llmspell-k1/],
    ['Evicted', pod({ phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' }), /\(Evicted\): The node was low on resource: memory\./],
  ])('fails with %s, naming it and what to do', (reason, p, message) => {
    const progress = podProgress(p, WHERE);
    expect(progress).toMatchObject({ state: 'failed', reason });
    expect((progress as { message: string }).message).toMatch(message);
    expect((progress as { message: string }).message).toContain('kernels/llmspell-k1');
  });
});

describe('apiRefusal: a create the API refused', () => {
  const status = (reason: string, message: string) => JSON.stringify({ kind: 'Status', reason, message });
  it.each([
    ['quota exceeded', 403, status('Forbidden', 'pods "llmspell-k1" is forbidden: exceeded quota: mem, requested: limits.memory=512Mi'), 'QuotaExceeded', /quota exceeded in namespace kernels .*exceeded quota: mem.*lower runtimes\.pyk\.memory_mb/],
    ['forbidden', 403, status('Forbidden', 'pods is forbidden: User "x" cannot create resource "pods"'), 'Forbidden', /refused \(Forbidden\): pods is forbidden.*examples\/kubernetes\/rbac\.yaml in namespace kernels/],
    ['unauthorized', 401, status('Unauthorized', 'Unauthorized'), 'Unauthorized', /credentials were not accepted/],
    ['no namespace', 404, status('NotFound', 'namespaces "kernels" not found'), 'NotFound', /create namespace kernels or change runtimes\.pyk\.namespace/],
    ['invalid', 422, status('Invalid', 'Pod "x" is invalid: spec.containers[0].image: Required value'), 'Invalid', /failed \(Invalid\): Pod "x" is invalid/],
    ['no answer', undefined, 'connect ECONNREFUSED 127.0.0.1:6443', 'Unreachable', /did not answer \(connect ECONNREFUSED.*check the kubeconfig/],
  ])('%s', (_name, code, body, reason, message) => {
    const r = apiRefusal(code, body, 'create pod kernels/llmspell-k1', { namespace: 'kernels', runtime: 'pyk' });
    expect(r.reason).toBe(reason);
    expect(r.message).toMatch(message);
  });
});

describe('podEnd: how a pod backend ended', () => {
  it.each([
    ['OOMKilled under a memory limit', pod(terminated('OOMKilled', 137)), 512, { reason: 'memory-limit', cause: 'killed: memory limit 512 MB reached (OOMKilled)', exitCode: 137 }],
    ['OOMKilled without a limit', pod(terminated('OOMKilled', 137)), undefined, { reason: 'oom-killed', cause: 'killed: out of memory (OOMKilled)', exitCode: 137 }],
    ['Evicted', pod({ phase: 'Failed', reason: 'Evicted', message: 'low on memory' }), undefined, { reason: 'evicted', cause: 'its pod was evicted (Evicted): low on memory', exitCode: null }],
    ['Error with an exit code', pod(terminated('Error', 3)), undefined, { reason: 'exited', cause: "its pod's container ended (Error) with exit code 3", exitCode: 3 }],
    ['deleted from outside (gone)', undefined, undefined, { reason: 'deleted', cause: 'its pod was deleted from outside the fleet', exitCode: null }],
    ['deleted from outside (terminating)', pod(terminated('Error', 137), { metadata: { name: 'llmspell-k1', deletionTimestamp: new Date() } }), undefined, { reason: 'deleted', cause: 'its pod was deleted from outside the fleet', exitCode: 137 }],
    ['ended well: nothing to add', pod(terminated('Completed', 0, 'Succeeded')), undefined, undefined],
    ['still running: nothing to add', pod(running), undefined, undefined],
  ])('%s', (_name, p, memoryMb, end) => {
    expect(podEnd(p, memoryMb)).toEqual(end);
  });
});

describe('podStatusSummary: what list and /metrics show of a pod', () => {
  const kernel = (restartCount: number) => ({ name: 'kernel', image: 'i', imageID: '', ready: true, restartCount });
  it.each<[string, V1Pod, ReturnType<typeof podStatusSummary>]>([
    ['running on a node', { spec: { nodeName: 'n1', containers: [] }, status: { phase: 'Running', containerStatuses: [kernel(0)] } }, { phase: 'Running', restarts: 0, node: 'n1' }],
    ['the kernel container, not a sidecar', { spec: { nodeName: 'n1', containers: [] }, status: { phase: 'Running', containerStatuses: [{ ...kernel(5), name: 'sidecar' }, kernel(2)] } }, { phase: 'Running', restarts: 2, node: 'n1' }],
    ['no container named kernel: the first', { spec: { containers: [] }, status: { phase: 'Running', containerStatuses: [{ ...kernel(1), name: 'main' }] } }, { phase: 'Running', restarts: 1 }],
    ['not scheduled yet', { spec: { containers: [] }, status: { phase: 'Pending' } }, { phase: 'Pending', restarts: 0 }],
    ['no status at all', {}, { restarts: 0 }],
  ])('%s', (_what, pod, expected) => {
    expect(podStatusSummary(pod)).toEqual(expected);
  });
});
