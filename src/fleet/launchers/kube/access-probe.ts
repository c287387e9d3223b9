/**
 * What `doctor` asks a Kubernetes runtime's cluster, the I/O half (the verdicts are pure, in
 * src/cli/doctor-kube-checks.ts): which kubeconfig and context load, whether the API answers,
 * whether the namespace exists, and whether the manager's account may do each thing the
 * launcher does there (one SelfSubjectAccessReview per verb and resource). Creates nothing: the
 * namespace fallback is a dry-run create.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeAccess } from '../../types.js';
import { apiError, clientNode } from './api.js';

/** What the launcher does in its namespace (examples/kubernetes/rbac.yaml grants exactly this). */
export const KUBE_NEEDS: ReadonlyArray<{ resource: string; subresource?: string; verbs: readonly string[] }> = [
  { resource: 'pods', verbs: ['create', 'get', 'list', 'watch', 'delete'] },
  { resource: 'pods', subresource: 'log', verbs: ['get'] },
  { resource: 'secrets', verbs: ['create', 'get', 'list', 'delete'] },
];

export interface KubeProbe {
  /** The kubeconfig file read, or "in-cluster account". */
  source: string;
  context?: string;
  server?: string;
  /** The kubeconfig did not load (or has no cluster). */
  loadError?: string;
  /** The API's gitVersion, when it answered. */
  version?: string;
  apiError?: string;
  namespace: string;
  /** undefined: could not tell (apiError or namespaceError says why). */
  namespaceExists?: boolean;
  namespaceError?: string;
  /** "verb resource[/subresource]" the account may not do; undefined when not asked. */
  denied?: string[];
  reviewError?: string;
}

const PROBE_TIMEOUT_MS = 10_000;

function withTimeout<T>(call: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer to ${what} within ${PROBE_TIMEOUT_MS / 1000} s`)), PROBE_TIMEOUT_MS);
    timer.unref();
  });
  return Promise.race([call, late]).finally(() => clearTimeout(timer));
}

function said(error: unknown): string {
  const refused = apiError(error);
  if (refused === undefined) return (error as Error).message ?? String(error);
  const message = (refused.body as { message?: unknown } | undefined)?.message;
  return `HTTP ${refused.code}${typeof message === 'string' ? `: ${message}` : ''}`;
}

/** Where client-node's loadFromDefault reads from, in its order. */
function defaultSource(env: NodeJS.ProcessEnv): string {
  if (env.KUBECONFIG) return `${env.KUBECONFIG} (KUBECONFIG)`;
  const file = env.HOME ? join(env.HOME, '.kube', 'config') : undefined;
  return file !== undefined && existsSync(file) ? file : 'in-cluster account';
}

export async function probeKube(access: KubeAccess, namespace: string): Promise<KubeProbe> {
  const k8s = await clientNode();
  const probe: KubeProbe = { source: access.kubeconfig ?? defaultSource(process.env), namespace };
  const kc = new k8s.KubeConfig();
  try {
    if (access.kubeconfig !== undefined) kc.loadFromFile(access.kubeconfig);
    else kc.loadFromDefault();
    if (access.context !== undefined) kc.setCurrentContext(access.context);
    probe.context = kc.getCurrentContext();
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new Error(`no cluster for context "${probe.context}"`);
    probe.server = cluster.server;
  } catch (error) {
    probe.loadError = (error as Error).message.split('\n')[0];
    return probe;
  }
  try {
    probe.version = (await withTimeout(kc.makeApiClient(k8s.VersionApi).getCode(), `GET ${probe.server}/version`)).gitVersion;
  } catch (error) {
    probe.apiError = said(error);
    return probe;
  }
  const core = kc.makeApiClient(k8s.CoreV1Api);
  try {
    await withTimeout(core.readNamespace({ name: namespace }), `reading namespace ${namespace}`);
    probe.namespaceExists = true;
  } catch (error) {
    const code = apiError(error)?.code;
    if (code === 404) probe.namespaceExists = false;
    else if (code === 403) {
      // A Role in one namespace cannot read namespaces: a dry-run create there tells (404: none).
      try {
        await withTimeout(core.createNamespacedSecret({ namespace, dryRun: 'All', body: { metadata: { generateName: 'llmspell-fleet-doctor-' } } }), `a dry-run create in ${namespace}`);
        probe.namespaceExists = true;
      } catch (dryRunError) {
        if (apiError(dryRunError)?.code === 404) probe.namespaceExists = false;
        else probe.namespaceError = `reading namespace ${namespace} and a dry-run create there were refused (${said(dryRunError)})`;
      }
    } else probe.namespaceError = said(error);
  }
  try {
    const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
    const asks = KUBE_NEEDS.flatMap(({ resource, subresource, verbs }) => verbs.map((verb) => ({ resource, verb, ...(subresource !== undefined ? { subresource } : {}) })));
    const answers = await Promise.all(
      asks.map((attrs) => withTimeout(authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace, ...attrs } } } }), 'a SelfSubjectAccessReview')),
    );
    probe.denied = asks.filter((_, i) => answers[i]?.status?.allowed !== true).map((a) => `${a.verb} ${a.resource}${a.subresource !== undefined ? `/${a.subresource}` : ''}`);
  } catch (error) {
    probe.reviewError = said(error);
  }
  return probe;
}
