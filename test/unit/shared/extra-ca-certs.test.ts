import { describe, expect, it } from 'vitest';
import { extraCaCertsToRestore, restoreExtraCaCerts, ROUTER_KERNEL_ENV, STASHED_CA_VARIABLE } from '../../../src/shared/extra-ca-certs.js';
import { applyKernelEnv, substituteKernelEnv } from '../../../src/shared/kernel-env.js';

type Env = Record<string, string | undefined>;

describe('extraCaCertsToRestore', () => {
  it.each<[string, Env, string | null | undefined]>([
    ['not started by our kernel.json: left alone', { NODE_EXTRA_CA_CERTS: '/ca.pem' }, undefined],
    ['the stash holds a path', { NODE_EXTRA_CA_CERTS: '', [STASHED_CA_VARIABLE]: '/ca.pem' }, '/ca.pem'],
    ["Jupyter's environment had none: the template is left as is", { NODE_EXTRA_CA_CERTS: '', [STASHED_CA_VARIABLE]: '${NODE_EXTRA_CA_CERTS}' }, null],
    ['set but empty', { [STASHED_CA_VARIABLE]: '' }, null],
  ])('%s', (_name, env, expected) => {
    expect(extraCaCertsToRestore(env)).toBe(expected);
  });
});

describe('restoreExtraCaCerts', () => {
  it.each<[string, Env, Env]>([
    ['puts the path back and drops the stash', { NODE_EXTRA_CA_CERTS: '', [STASHED_CA_VARIABLE]: '/ca.pem', A: '1' }, { NODE_EXTRA_CA_CERTS: '/ca.pem', A: '1' }],
    ['removes both when there was none', { NODE_EXTRA_CA_CERTS: '', [STASHED_CA_VARIABLE]: '${NODE_EXTRA_CA_CERTS}' }, {}],
    ['leaves an environment without the stash unchanged', { NODE_EXTRA_CA_CERTS: '/ca.pem' }, { NODE_EXTRA_CA_CERTS: '/ca.pem' }],
  ])('%s', (_name, env, expected) => {
    restoreExtraCaCerts(env);
    expect(env).toEqual(expected);
  });
});

describe('applyKernelEnv, as jupyter_client applies a kernelspec env', () => {
  it.each<[string, Env, Record<string, string>]>([
    ['the user sets a CA bundle', { NODE_EXTRA_CA_CERTS: '/ca.pem', PATH: '/bin' }, { NODE_EXTRA_CA_CERTS: '', [STASHED_CA_VARIABLE]: '/ca.pem', PATH: '/bin' }],
    ['the user sets none: safe_substitute leaves the template', { PATH: '/bin' }, { NODE_EXTRA_CA_CERTS: '', [STASHED_CA_VARIABLE]: '${NODE_EXTRA_CA_CERTS}', PATH: '/bin' }],
  ])('%s', (_name, env, expected) => {
    expect(applyKernelEnv(ROUTER_KERNEL_ENV, env)).toEqual(expected);
  });

  it.each<[string, string]>([
    ['$A and ${A}', 'x and x'],
    ['$$A', '$A'],
    ['${MISSING} $MISSING', '${MISSING} $MISSING'],
  ])('fills %s', (template, expected) => {
    expect(applyKernelEnv({ V: template }, { A: 'x' }).V).toBe(expected);
  });

  it.each<[Record<string, string>, Env, Record<string, string>]>([
    [{ A: '${HOME}/x' }, { HOME: '/h' }, { A: '/h/x' }],
    [{ A: '${NOPE}-$HOME' }, { HOME: '/h' }, { A: '${NOPE}-/h' }],
    [{ A: 'plain' }, {}, { A: 'plain' }],
  ])("substituteKernelEnv(%j): a backend's kernelspec env, filled the same way", (specEnv, env, expected) => {
    expect(substituteKernelEnv(specEnv, env)).toEqual(expected);
  });

  it('round-trips through the router: the bundle is back for what it starts', () => {
    const env: Env = applyKernelEnv(ROUTER_KERNEL_ENV, { NODE_EXTRA_CA_CERTS: '/ca.pem' });
    restoreExtraCaCerts(env);
    expect(env).toEqual({ NODE_EXTRA_CA_CERTS: '/ca.pem' });
  });
});
