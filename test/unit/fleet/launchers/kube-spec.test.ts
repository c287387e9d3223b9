import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { POD_KERNEL_FILE, buildPod, buildSecret, fleetLabel, podKernelFile, fleetSelector, labelValue, podConnection, podName, podResources, secretName } from '../../../../src/fleet/launchers/kube/spec.js';
import type { KubePlan } from '../../../../src/fleet/types.js';
import type { ConnectionInfo } from '../../../../src/wire/connection-file.js';

const KEY = 'a3f1c0ffee5ecret0123456789abcdef';
const CONNECTION: ConnectionInfo = { transport: 'tcp', ip: '127.0.0.1', shell_port: 5001, iopub_port: 5002, stdin_port: 5003, control_port: 5004, hb_port: 5005, key: KEY, signature_scheme: 'hmac-sha256' };
const PLAN: KubePlan = { image: 'localhost/k:1', namespace: 'kernels', limits: { memory_mb: 512, cpus: 0.5 }, home: '/home/ann/.llmspell/fleet', owner: 'ann' };
const INPUT = { plan: PLAN, kernelId: 'py_k-openai-0a1b2c3d', runtime: 'py_k', provider: 'openai', argv: ['python', '-m', 'ipykernel_launcher', '-f', '/etc/llmspell-fleet/connection.json'], envNames: ['OPENAI_API_KEY'] };

describe('pod and secret for a launch plan', () => {
  it('labels both with the fleet (a hash of its home), kernel id, runtime, provider and owner', () => {
    const pod = buildPod(INPUT);
    const labels = {
      'app.kubernetes.io/managed-by': 'llmspell-fleet',
      'llmspell-fleet/fleet': fleetLabel(PLAN.home),
      'llmspell-fleet/kernel-id': 'py_k-openai-0a1b2c3d',
      'llmspell-fleet/runtime': 'py_k',
      'llmspell-fleet/provider': 'openai',
      'llmspell-fleet/owner': 'ann',
    };
    expect(pod.metadata).toMatchObject({ name: 'llmspell-py-k-openai-0a1b2c3d', namespace: 'kernels', labels });
    expect(buildSecret({ ...INPUT, connection: CONNECTION, env: {} }).metadata).toEqual({ name: 'llmspell-py-k-openai-0a1b2c3d-connection', namespace: 'kernels', labels });
    expect(fleetLabel(PLAN.home)).toMatch(/^[0-9a-f]{16}$/);
    expect(fleetLabel('/home/bob/.llmspell/fleet')).not.toBe(fleetLabel(PLAN.home));
    expect(fleetSelector('abc')).toBe('app.kubernetes.io/managed-by=llmspell-fleet,llmspell-fleet/fleet=abc');
  });

  it('keeps the key and env values out of the pod spec: they are in the Secret, mounted and referenced by name', () => {
    const pod = buildPod(INPUT);
    const secret = buildSecret({ ...INPUT, connection: CONNECTION, env: { OPENAI_API_KEY: 'sk-live-123' } });
    expect(JSON.stringify(pod)).not.toContain(KEY);
    expect(JSON.stringify(pod)).not.toContain('sk-live-123');
    expect(JSON.parse(secret.stringData!['connection.json']!)).toEqual(CONNECTION);
    expect(secret.stringData!['env.OPENAI_API_KEY']).toBe('sk-live-123');
    const kernel = pod.spec!.containers[0]!;
    expect(kernel.env).toEqual([{ name: 'OPENAI_API_KEY', valueFrom: { secretKeyRef: { name: secretName(pod.metadata!.name!), key: 'env.OPENAI_API_KEY' } } }]);
    expect(kernel.volumeMounts).toEqual([{ name: 'llmspell-connection', mountPath: '/etc/llmspell-fleet', readOnly: true }]);
    expect(pod.spec!.volumes).toEqual([{ name: 'llmspell-connection', secret: { secretName: 'llmspell-py-k-openai-0a1b2c3d-connection', defaultMode: 0o400 } }]);
    expect(kernel).toMatchObject({ name: 'kernel', image: 'localhost/k:1', command: INPUT.argv, args: [] });
  });

  it('with curve keys (kernelCopy): an init container copies the file, mode 0600, into an in-memory volume the kernel reads and may rewrite', () => {
    const pod = buildPod({ ...INPUT, plan: { ...PLAN, kernelCopy: true }, argv: ['python', '-f', POD_KERNEL_FILE] });
    const kernel = pod.spec!.containers[0]!;
    expect(kernel.command).toEqual(['python', '-f', '/run/llmspell-fleet/connection.json']);
    expect(kernel.volumeMounts).toEqual([
      { name: 'llmspell-connection', mountPath: '/etc/llmspell-fleet', readOnly: true },
      { name: 'llmspell-kernel-dir', mountPath: '/run/llmspell-fleet' },
    ]);
    expect(pod.spec!.initContainers).toEqual([
      {
        name: 'llmspell-connection-copy',
        image: 'localhost/k:1',
        imagePullPolicy: 'IfNotPresent',
        command: ['install', '-m', '600', '/etc/llmspell-fleet/connection.json', '/run/llmspell-fleet/connection.json'],
        volumeMounts: [
          { name: 'llmspell-connection', mountPath: '/etc/llmspell-fleet', readOnly: true },
          { name: 'llmspell-kernel-dir', mountPath: '/run/llmspell-fleet' },
        ],
      },
    ]);
    expect(pod.spec!.volumes).toContainEqual({ name: 'llmspell-kernel-dir', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } });
    expect(buildPod(INPUT).spec!.initContainers).toBeUndefined();
  });

  it.each([
    [{}, '/etc/llmspell-fleet/connection.json'],
    [{ kernelCopy: false }, '/etc/llmspell-fleet/connection.json'],
    [{ kernelCopy: true }, '/run/llmspell-fleet/connection.json'],
  ])('podKernelFile(%j) = %s', (plan, file) => {
    expect(podKernelFile(plan)).toBe(file);
  });

  it.each([
    ['no limits', {}, {}],
    ['memory and cpus', { memory_mb: 512, cpus: 0.5 }, { limits: { memory: '512Mi', cpu: '500m' }, requests: { memory: '512Mi', cpu: '500m' } }],
    ['fractional memory rounds up', { memory_mb: 100.2 }, { limits: { memory: '101Mi' }, requests: { memory: '101Mi' } }],
    ['two cores', { cpus: 2 }, { limits: { cpu: '2000m' }, requests: { cpu: '2000m' } }],
  ])('resources: %s', (_name, limits, resources) => {
    expect(podResources(limits)).toEqual(resources);
  });

  it('node selector, service account, restart policy and no API token by default', () => {
    const pod = buildPod({ ...INPUT, plan: { ...PLAN, nodeSelector: { pool: 'gpu' }, serviceAccount: 'kernel' } });
    expect(pod.spec).toMatchObject({ nodeSelector: { pool: 'gpu' }, serviceAccountName: 'kernel', restartPolicy: 'Never', automountServiceAccountToken: false });
    expect(pod.spec!.containers[0]!.resources).toEqual({ limits: { memory: '512Mi', cpu: '500m' }, requests: { memory: '512Mi', cpu: '500m' } });
  });

  it('merges the pod template under what the launcher sets', () => {
    const template: V1Pod = {
      metadata: { labels: { team: 'ds', 'llmspell-fleet/owner': 'mallory' }, annotations: { note: 'x' }, name: 'ignored' },
      spec: {
        nodeName: 'localhost',
        hostNetwork: true,
        restartPolicy: 'Always',
        nodeSelector: { zone: 'a' },
        tolerations: [{ key: 'gpu', operator: 'Exists' }],
        containers: [
          { name: 'kernel', image: 'ignored', imagePullPolicy: 'Never', env: [{ name: 'JUPYTER_RUNTIME_DIR', value: '/tmp/j' }, { name: 'OPENAI_API_KEY', value: 'template-literal' }], resources: { limits: { 'nvidia.com/gpu': '1' } } },
          { name: 'sidecar', image: 'busybox' },
        ],
        volumes: [{ name: 'scratch', emptyDir: {} }],
      },
    };
    const pod = buildPod({ ...INPUT, plan: { ...PLAN, nodeSelector: { pool: 'gpu' } }, template });
    expect(pod.metadata).toMatchObject({ name: 'llmspell-py-k-openai-0a1b2c3d', annotations: { note: 'x' }, labels: { team: 'ds', 'llmspell-fleet/owner': 'ann' } });
    expect(pod.spec).toMatchObject({ nodeName: 'localhost', hostNetwork: true, restartPolicy: 'Never', nodeSelector: { zone: 'a', pool: 'gpu' }, tolerations: [{ key: 'gpu', operator: 'Exists' }] });
    const [kernel, sidecar] = pod.spec!.containers;
    expect(kernel).toMatchObject({ name: 'kernel', image: 'localhost/k:1', imagePullPolicy: 'Never', resources: { limits: { memory: '512Mi', cpu: '500m' } } });
    expect(kernel!.env!.map((e) => e.name)).toEqual(['JUPYTER_RUNTIME_DIR', 'OPENAI_API_KEY']);
    expect(kernel!.env![1]).toMatchObject({ valueFrom: { secretKeyRef: { key: 'env.OPENAI_API_KEY' } } });
    expect(sidecar).toEqual({ name: 'sidecar', image: 'busybox' });
    expect(pod.spec!.volumes!.map((v) => v.name)).toEqual(['scratch', 'llmspell-connection']);
  });

  it.each([
    ['hostNetwork binds loopback', true, '127.0.0.1'],
    ['pod network binds every address of the pod', false, '0.0.0.0'],
  ])('connection file in the pod: %s', (_name, hostNetwork, ip) => {
    expect(podConnection(CONNECTION, hostNetwork)).toEqual({ ...CONNECTION, ip });
  });

  it.each([
    ['python-openai-0a1b2c3d', 'llmspell-python-openai-0a1b2c3d'],
    ['Py.K_x-openai-0a1b2c3d', 'llmspell-py-k-x-openai-0a1b2c3d'],
  ])('podName(%s) is a DNS-1123 name', (id, name) => {
    expect(podName(id)).toBe(name);
  });

  it.each([
    ['ann', 'ann'],
    ['DOMAIN\\ann smith', 'DOMAIN_ann_smith'],
    ['-x-', 'x'],
  ])('labelValue(%j)', (text, value) => {
    expect(labelValue(text)).toBe(value);
  });
});
