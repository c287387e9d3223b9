import { describe, expect, it } from 'vitest';
import { kubeChecks, type KubeCheckFacts } from '../../../src/cli/doctor-kube-checks.js';
import type { KubeProbe } from '../../../src/fleet/launchers/kube/access-probe.js';

const base = { runtime: 'python', isDefault: true, configFile: '/h/fleet.toml', image: 'reg/ipykernel:6' };
const answering: KubeProbe = { source: '/h/kc', context: 'team', server: 'https://10.0.0.1:6443', version: 'v1.31.0', namespace: 'ns', namespaceExists: true, denied: [] };

const summary = (f: KubeCheckFacts) => kubeChecks(f).map((c) => `${c.status} ${c.name.replace('kubernetes python: ', '')}${c.critical === true ? '!' : ''}: ${c.detail}`);

describe('kubeChecks', () => {
  it.each<[string, KubeCheckFacts, string[]]>([
    ['no image: nothing asked', { ...base, image: undefined }, ['FAIL image!: no image named']],
    ['kubeconfig does not load', { ...base, probe: { source: '/h/kc', namespace: 'ns', loadError: 'ENOENT' } }, ['OK image: reg/ipykernel:6', 'FAIL api!: the kubeconfig /h/kc does not load: ENOENT']],
    ['API does not answer', { ...base, probe: { ...answering, version: undefined, apiError: 'connect ECONNREFUSED' } }, ['OK image: reg/ipykernel:6', 'FAIL api!: https://10.0.0.1:6443 (/h/kc, context team) does not answer: connect ECONNREFUSED']],
    [
      'all allowed',
      { ...base, probe: answering },
      ['OK image: reg/ipykernel:6', 'OK api: https://10.0.0.1:6443 answers, v1.31.0 (/h/kc, context team)', 'OK namespace: ns exists', 'OK rbac: may create/get/list/watch/delete pods, get pods/log, create/get/list/delete secrets in ns'],
    ],
    ['namespace missing', { ...base, probe: { ...answering, namespaceExists: false } }, expect.arrayContaining(['FAIL namespace!: namespace ns does not exist'])],
    ['namespace unknown', { ...base, probe: { ...answering, namespaceExists: undefined, namespaceError: 'HTTP 403' } }, expect.arrayContaining(['WARN namespace: cannot tell whether namespace ns exists: HTTP 403'])],
    ['verbs denied', { ...base, probe: { ...answering, denied: ['watch pods', 'get pods/log'] } }, expect.arrayContaining(['FAIL rbac!: this account may not watch pods, get pods/log in namespace ns'])],
    ['not the default runtime: not critical', { ...base, isDefault: false, probe: { ...answering, denied: ['create secrets'] } }, expect.arrayContaining(['FAIL rbac: this account may not create secrets in namespace ns'])],
    ['review refused', { ...base, probe: { ...answering, denied: undefined, reviewError: 'HTTP 404' } }, expect.arrayContaining(['WARN rbac: cannot ask what this account may do in ns (SelfSubjectAccessReview: HTTP 404)'])],
  ])('%s', (_what, facts, expected) => {
    expect(summary(facts)).toEqual(expected);
  });

  it('points a denied account at the example Role', () => {
    const rbac = kubeChecks({ ...base, probe: { ...answering, denied: ['list pods'] } }).find((c) => c.name.endsWith('rbac'));
    expect(rbac?.fix).toContain('examples/kubernetes/rbac.yaml');
  });
});
