/**
 * Keys and certificates for one test cluster, made with the openssl CLI: a CA, the
 * apiserver's serving certificate (127.0.0.1 and localhost only), the client certificate the
 * apiserver shows kubelets (for pod logs), and the service-account signing key pair. All short
 * lived (2 days), all 0600 in the cluster's own directory.
 */
import { chmod, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './kube-daemons.js';

export interface ClusterPki {
  caCert: string;
  servingCert: string;
  servingKey: string;
  kubeletClientCert: string;
  kubeletClientKey: string;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

// A config with no default extensions: every certificate gets exactly the ones asked for.
const BARE_CONFIG = '[req]\ndistinguished_name = dn\n[dn]\n';

export async function makeClusterPki(dir: string): Promise<ClusterPki> {
  const config = join(dir, 'openssl.cnf');
  await writeFile(config, BARE_CONFIG);
  const p = (name: string): string => join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const req = (...args: string[]): Promise<string> =>
    run('openssl', ['req', '-config', config, '-x509', '-days', '2', ...ec, ...args]);

  await req('-keyout', p('ca.key'), '-out', p('ca.crt'), '-subj', '/CN=llmspell-fleet-test-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  const signed = ['-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-addext', 'basicConstraints=critical,CA:FALSE'];
  await req('-keyout', p('apiserver.key'), '-out', p('apiserver.crt'), '-subj', '/CN=kube-apiserver', ...signed,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'extendedKeyUsage=serverAuth');
  await req('-keyout', p('kubelet-client.key'), '-out', p('kubelet-client.crt'),
    '-subj', '/O=system:masters/CN=kube-apiserver-kubelet-client', ...signed, '-addext', 'extendedKeyUsage=clientAuth');
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-out', p('sa.key')]);
  await run('openssl', ['pkey', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub')]);
  for (const f of await readdir(dir)) await chmod(join(dir, f), 0o600);
  return {
    caCert: p('ca.crt'),
    servingCert: p('apiserver.crt'),
    servingKey: p('apiserver.key'),
    kubeletClientCert: p('kubelet-client.crt'),
    kubeletClientKey: p('kubelet-client.key'),
    serviceAccountKey: p('sa.key'),
    serviceAccountPub: p('sa.pub'),
  };
}
