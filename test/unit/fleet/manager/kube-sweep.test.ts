import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../../../src/fleet/config.js';
import type { ManagedBackend } from '../../../../src/fleet/manager/entry.js';
import { kubeSites } from '../../../../src/fleet/manager/kube-sweep.js';

const TOML = [
  '[runtimes.pyk]',
  'argv = ["python", "{connection_file}"]',
  'launcher = "kubernetes"',
  'image = "i"',
  'namespace = "kernels"',
  'kubeconfig = "~/.kube/fleet"',
  'context = "prod"',
  '[runtimes.pyd]',
  'argv = ["python", "{connection_file}"]',
  'launcher = "kubernetes"',
  'image = "i"',
  '[runtimes.pyhost]',
  'argv = ["python", "{connection_file}"]',
].join('\n');

describe('kubeSites: where the fleet looks for its pods', () => {
  it.each([
    ['no config, no backends', undefined, [], []],
    ['the kubernetes runtimes of the config (namespace default "default", ~ expanded)', TOML, [], [
      { namespace: 'kernels', kubeconfig: join(homedir(), '.kube', 'fleet'), context: 'prod' },
      { namespace: 'default' },
    ]],
    ['a kubeconfig spelled as the launcher reads it, normalized (one informer per file)', TOML.replace('~/.kube/fleet', '~/.kube/../.kube/fleet'), [], [
      { namespace: 'kernels', kubeconfig: join(homedir(), '.kube', 'fleet'), context: 'prod' },
      { namespace: 'default' },
    ]],
    ['and the namespaces of the backends it holds (a runtime since removed from the config)', undefined, [{ namespace: 'old', pod: 'p', secret: 's', fleet: 'f', context: 'c' }], [{ namespace: 'old', context: 'c' }]],
  ])('%s', (_name, toml, refs, sites) => {
    const config = toml === undefined ? undefined : parseFleetConfig(toml, '/x/fleet.toml');
    const backends = refs.map((kube) => ({ init: { kube } }) as unknown as ManagedBackend);
    expect(kubeSites(config, backends)).toEqual(sites);
  });
});
