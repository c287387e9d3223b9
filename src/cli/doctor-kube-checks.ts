/**
 * `doctor`'s verdicts on a launcher = "kubernetes" runtime, as pure functions of what the probe
 * (src/fleet/launchers/kube/access-probe.ts) found: the image named, the kubeconfig loaded, the
 * API answering, the namespace there, and the manager's account allowed what the launcher does.
 */
import type { KubeProbe } from '../fleet/launchers/kube/access-probe.js';
import type { Check } from './doctor-checks.js';

const RBAC_EXAMPLE = 'examples/kubernetes/rbac.yaml';

export interface KubeCheckFacts {
  runtime: string;
  isDefault: boolean;
  configFile: string;
  image?: string;
  /** undefined: not probed (no image, so the runtime cannot start anyway). */
  probe?: KubeProbe;
}

function where(p: KubeProbe): string {
  return `${p.source}${p.context !== undefined ? `, context ${p.context}` : ''}`;
}

export function kubeChecks(f: KubeCheckFacts): Check[] {
  const critical = f.isDefault;
  const name = (what: string): string => `kubernetes ${f.runtime}: ${what}`;
  const checks: Check[] = [
    f.image === undefined
      ? { name: name('image'), status: 'FAIL', detail: 'no image named', fix: `set runtimes.${f.runtime}.image in ${f.configFile} (an image with the kernel in it)`, critical }
      : { name: name('image'), status: 'OK', detail: f.image },
  ];
  const p = f.probe;
  if (p === undefined) return checks;
  const configKeys = `runtimes.${f.runtime}.kubeconfig / .context in ${f.configFile} (else KUBECONFIG, ~/.kube/config, in-cluster)`;
  if (p.loadError !== undefined) {
    checks.push({ name: name('api'), status: 'FAIL', detail: `the kubeconfig ${p.source} does not load: ${p.loadError}`, fix: `fix ${configKeys}`, critical });
    return checks;
  }
  if (p.apiError !== undefined) {
    checks.push({ name: name('api'), status: 'FAIL', detail: `${p.server ?? '?'} (${where(p)}) does not answer: ${p.apiError}`, fix: `check the cluster is up and ${configKeys}`, critical });
    return checks;
  }
  checks.push({ name: name('api'), status: 'OK', detail: `${p.server ?? '?'} answers, ${p.version ?? 'version unknown'} (${where(p)})` });
  const nsFix = `kubectl create namespace ${p.namespace} (examples/kubernetes/namespace.yaml), or set runtimes.${f.runtime}.namespace in ${f.configFile}`;
  checks.push(
    p.namespaceExists === true
      ? { name: name('namespace'), status: 'OK', detail: `${p.namespace} exists` }
      : p.namespaceExists === false
        ? { name: name('namespace'), status: 'FAIL', detail: `namespace ${p.namespace} does not exist`, fix: nsFix, critical }
        : { name: name('namespace'), status: 'WARN', detail: `cannot tell whether namespace ${p.namespace} exists: ${p.namespaceError ?? 'no answer'}`, fix: nsFix },
  );
  if (p.reviewError !== undefined) {
    checks.push({ name: name('rbac'), status: 'WARN', detail: `cannot ask what this account may do in ${p.namespace} (SelfSubjectAccessReview: ${p.reviewError})`, fix: `grant the Role of ${RBAC_EXAMPLE} in ${p.namespace}` });
  } else if (p.denied !== undefined && p.denied.length > 0) {
    checks.push({
      name: name('rbac'),
      status: 'FAIL',
      detail: `this account may not ${p.denied.join(', ')} in namespace ${p.namespace}`,
      fix: `bind the account to a Role like ${RBAC_EXAMPLE} in ${p.namespace} (kubectl apply -f ${RBAC_EXAMPLE}, with your namespace and account)`,
      critical,
    });
  } else if (p.denied !== undefined) {
    checks.push({ name: name('rbac'), status: 'OK', detail: `may create/get/list/watch/delete pods, get pods/log, create/get/list/delete secrets in ${p.namespace}` });
  }
  return checks;
}
