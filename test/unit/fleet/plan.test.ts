import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFleetError } from '../../../src/shared/errors.js';
import { parseFleetConfig } from '../../../src/fleet/config.js';
import { defaultFleetConfig } from '../../../src/fleet/defaults.js';
import { newKernelId, planLaunch } from '../../../src/fleet/plan.js';
import type { FleetConfig } from '../../../src/fleet/types.js';

const ROOT = resolve('.');
const BIN = join(ROOT, 'node_modules', '.bin');
const VENV = join(ROOT, '.venv');

let tmp: string;
let home: string;
let env: Record<string, string>;
let providerConfig: string;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'fleet-plan-'));
  home = join(tmp, 'fleet');
  await mkdir(join(tmp, 'home', '.llmspell'), { recursive: true });
  providerConfig = join(tmp, 'home', '.llmspell', 'openai.toml');
  await writeFile(providerConfig, '# llmspell config\n', { mode: 0o600 });
  env = { PATH: `${VENV}/bin:/usr/bin:/bin`, HOME: join(tmp, 'home') };
});

afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function config(toml = ''): FleetConfig {
  return parseFleetConfig(toml, join(tmp, 'fleet.toml'));
}

async function planError(promise: Promise<unknown>) {
  const err = await promise.catch((e: unknown) => e);
  if (!isFleetError(err)) throw new Error(`expected a FleetError, got ${String(err)}`);
  return err;
}

describe('planLaunch', () => {
  it('python: a kernelspec runtime, found for real in the venv', async () => {
    const plan = await planLaunch({ requirement: { runtime: 'python', provider: 'ollama' }, config: config(), home, kernelId: 'python-ollama-00000001', env });
    const connectionFile = join(home, 'backends', 'python-ollama-00000001.json');
    expect(plan).toEqual({
      kernelId: 'python-ollama-00000001',
      requirement: { runtime: 'python', provider: 'ollama' },
      argv: [join(VENV, 'bin', 'python'), '-m', 'ipykernel_launcher', '-f', connectionFile],
      env: { LLMSPELL_PROVIDER: 'ollama' },
      connection: 'router-writes',
      interruptMode: 'signal',
      connectionFile,
      logFile: join(home, 'logs', 'python-ollama-00000001.log'),
      startupTimeoutMs: 60_000,
      secretEnvKeys: ['LLMSPELL_PROVIDER'],
    });
  });

  it('javascript: tslab found on PATH like any program, else the optional dependency by absolute path; PATH untouched', async () => {
    const plan = await planLaunch({ requirement: { runtime: 'javascript', provider: 'openai' }, config: config(), home, env: { ...env, PATH: `${BIN}:${env.PATH}` } });
    expect(plan.kernelId).toMatch(/^javascript-openai-[0-9a-f]{8}$/);
    expect(plan.argv).toEqual(['tslab', 'kernel', '--config-path', plan.connectionFile, '--js']);
    expect(plan.connectionFile).toBe(join(home, 'backends', `${plan.kernelId}.json`));
    expect(plan.connection).toBe('router-writes');
    expect(plan.env.PATH).toBeUndefined();
    const bundled = await planLaunch({ requirement: { runtime: 'javascript', provider: 'openai' }, config: config(), home, env: { ...env, PATH: '/nowhere' } });
    expect(bundled.argv[0]).toBe(join(ROOT, 'node_modules', 'tslab', 'bin', 'tslab'));
    expect(existsSync(bundled.argv[0]!)).toBe(true);
    expect(bundled.env.PATH).toBeUndefined();
  });

  it('lua: llmspell behind the adapter, {config} from the provider with ~ expanded, keys passed', async () => {
    const c = config('[providers.openai]\nconfig = "~/.llmspell/openai.toml"\nenv = { LLMSPELL_PROVIDER = "openai", OPENAI_API_KEY = "sk-secret" }\n[runtimes.lua]\nargv = ["llmspell", "--config", "{config}", "kernel", "start", "--port", "0", "--id", "{kernel_id}", "--connection-file", "{connection_file}"]\nisolate = "off"\ninterrupt = "restart"\ninterrupt_grace_seconds = 2\n');
    const plan = await planLaunch({ requirement: { runtime: 'lua', provider: 'openai' }, config: c, home, kernelId: 'k1', env: { ...env, LLMSPELL_PROVIDER_OPENAI_MODEL: 'gpt-x' } });
    const llmspell = [
      'llmspell', '--config', providerConfig, 'kernel', 'start', '--port', '0',
      '--id', 'k1', '--connection-file', join(home, 'backends', 'k1-llmspell.json'),
    ];
    expect(plan.argv.slice(2)).toEqual([
      'llmspell-adapter', '--connection-file', join(home, 'backends', 'k1.json'), '--transport', 'tcp',
      '--llmspell-connection-file', join(home, 'backends', 'k1-llmspell.json'), '--llmspell-log', join(home, 'logs', 'k1.log'),
      '--interrupt', 'restart', '--interrupt-grace', '2', '--startup-timeout', '60', '--log-level', 'info', '--', ...llmspell,
    ]);
    expect(plan.argv[0]).toBe(process.execPath);
    expect(plan.adapter).toEqual({ llmspellArgv: llmspell, isolation: 'none', isolationNote: 'isolate = "off" for runtimes.lua' });
    expect(plan.connection).toBe('kernel-writes');
    expect(plan.interruptMode).toBe('message');
    expect(plan.env).toMatchObject({ LLMSPELL_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-secret', LLMSPELL_PROVIDER_OPENAI_MODEL: 'gpt-x' });
    expect(plan.secretEnvKeys.sort()).toEqual(['LLMSPELL_PROVIDER', 'LLMSPELL_PROVIDER_OPENAI_MODEL', 'OPENAI_API_KEY']);
  });

  it('lua with a provider that has no config file: a minimal config the adapter writes, or the profile it names', async () => {
    const plan = await planLaunch({ requirement: { runtime: 'lua', provider: 'anthropic' }, config: config(), home, kernelId: 'k2', env });
    const generated = join(home, 'backends', 'k2-llmspell.toml');
    expect(plan.adapter?.llmspellArgv.slice(0, 4)).toEqual(['llmspell', '--config', generated, 'kernel']);
    const i = plan.argv.indexOf('--llmspell-provider');
    expect(plan.argv.slice(i, i + 4)).toEqual(['--llmspell-provider', 'anthropic', '--llmspell-provider-config', generated]);
    const named = await planLaunch({ requirement: { runtime: 'lua', provider: 'mine' }, config: config('[providers.mine]\nprofile = "rag-dev"\n'), home, kernelId: 'k3', env });
    expect(named.adapter?.llmspellArgv.slice(0, 4)).toEqual(['llmspell', '--profile', 'rag-dev', 'kernel']);
    expect(named.argv).not.toContain('--llmspell-provider');
  });

  it('{config} used other than as --config {config}, with no config file: BAD_CONFIG saying what to set', async () => {
    const c = config('[runtimes.lua]\nargv = ["llmspell", "--config={config}", "kernel", "start", "--connection-file", "{connection_file}"]\n');
    const err = await planError(planLaunch({ requirement: { runtime: 'lua', provider: 'anthropic' }, config: c, home, env }));
    expect(err.code).toBe('BAD_CONFIG');
    expect(err.context).toMatchObject({ placeholder: 'config', where: 'runtimes.lua.argv' });
    expect(err.message).toContain('providers.anthropic.config');
    expect(err.message).toContain(join(tmp, 'fleet.toml'));
  });

  it('adapter = "none" runs llmspell as it is', async () => {
    const c = config('[runtimes.lua]\nargv = ["llmspell", "kernel", "start", "--connection-file", "{connection_file}"]\nadapter = "none"\nconnection = "kernel-writes"\n');
    const plan = await planLaunch({ requirement: { runtime: 'lua', provider: 'openai' }, config: c, home, kernelId: 'k4', env });
    expect(plan.argv).toEqual(['llmspell', 'kernel', 'start', '--connection-file', join(home, 'backends', 'k4.json')]);
    expect(plan.adapter).toBeUndefined();
  });

  it('launcher = "container": argv as written, the files it names mounted read-only, the limits with the provider\'s laid over', async () => {
    const toml = [
      '[runtimes.pyc]',
      'argv = ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}", "--config", "{config}"]',
      'launcher = "container"',
      'image = "localhost/k"',
      'memory_mb = 256',
      'cpus = 1',
      '[providers.openai]',
      'config = "~/.llmspell/openai.toml"',
      'memory_mb = 512',
    ].join('\n');
    const plan = await planLaunch({ requirement: { runtime: 'pyc', provider: 'openai' }, config: config(toml), home, kernelId: 'pyc-openai-00000001', env });
    const connectionFile = join(home, 'backends', 'pyc-openai-00000001.json');
    expect(plan.argv).toEqual(['python', '-m', 'ipykernel_launcher', '-f', connectionFile, '--config', providerConfig]);
    expect(plan.container).toEqual({ image: 'localhost/k', engine: 'auto', limits: { memory_mb: 512, cpus: 1 }, home, readOnlyFiles: [connectionFile, providerConfig] });
    expect(plan.connection).toBe('router-writes');
  });

  it('launcher = "container" with cpu_seconds: BAD_CONFIG naming the key (no engine flag enforces it)', async () => {
    const toml = '[runtimes.pyc]\nargv = ["python", "{connection_file}"]\nlauncher = "container"\nimage = "i"\n[providers.openai]\ncpu_seconds = 60';
    const err = await planError(planLaunch({ requirement: { runtime: 'pyc', provider: 'openai' }, config: config(toml), home, env }));
    expect(err.code).toBe('BAD_CONFIG');
    expect(err.message).toMatch(/cpu_seconds cannot be enforced in a container/);
  });

  it.each([
    ['a kernelspec runtime', '[runtimes.py]\nkernelspec = "python3"\ncurve = true', true],
    ['an argv runtime', '[runtimes.py]\nargv = ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]\ncurve = true', true],
    ['a container runtime', '[runtimes.py]\nargv = ["python", "-f", "{connection_file}"]\nlauncher = "container"\nimage = "i"\ncurve = true', true],
    ['curve = false', '[runtimes.py]\nargv = ["python", "{connection_file}"]\ncurve = false', undefined],
    ['curve unset', '[runtimes.py]\nargv = ["python", "{connection_file}"]', undefined],
  ])('curve on %s: the plan asks for keys in the file the manager writes', async (_name, toml, curve) => {
    const plan = await planLaunch({ requirement: { runtime: 'py', provider: 'openai' }, config: config(toml), home, env });
    expect(plan.curve).toBe(curve);
    expect(plan.connection).toBe('router-writes');
  });

  it('curve on a container runtime: the kernel reads its own copy of the connection file, in a directory of its own mounted read-write', async () => {
    const toml = '[runtimes.py]\nargv = ["python", "-f", "{connection_file}"]\nlauncher = "container"\nimage = "i"\ncurve = true';
    const plan = await planLaunch({ requirement: { runtime: 'py', provider: 'openai' }, config: config(toml), home, kernelId: 'py-openai-00000001', env });
    const copy = join(home, 'backends', 'py-openai-00000001.d', 'py-openai-00000001.json');
    expect(plan.connectionFile).toBe(join(home, 'backends', 'py-openai-00000001.json'));
    expect(plan.kernelConnectionFile).toBe(copy);
    expect(plan.argv).toEqual(['python', '-f', copy]);
    expect(plan.container).toMatchObject({ readOnlyFiles: [], writableDir: join(home, 'backends', 'py-openai-00000001.d') });
  });

  it('curve on a runtime that writes its own connection file (config built in code, past the schema): BAD_CONFIG saying why', async () => {
    const c = config();
    c.runtimes.lua = { ...c.runtimes.lua, curve: true };
    const err = await planError(planLaunch({ requirement: { runtime: 'lua', provider: 'openai' }, config: c, home, env }));
    expect(err.code).toBe('BAD_CONFIG');
    expect(err.message).toMatch(/runtimes\.lua\.curve = true needs a backend that reads the connection file the manager writes, but this one writes its own \(llmspell adapter\)/);
  });

  it('launcher = "kubernetes": argv reads the mounted Secret, interrupts are messages, the API and pod settings come along', async () => {
    const toml = [
      '[runtimes.pyk]',
      'argv = ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]',
      'launcher = "kubernetes"',
      'image = "localhost/k:1"',
      'interrupt_mode = "signal"',
      'namespace = "kernels"',
      'node_selector = { pool = "gpu" }',
      'service_account = "kernel"',
      'pod_template = "~/pod.yaml"',
      'kubeconfig = "~/.kube/fleet"',
      'context = "prod"',
      'memory_mb = 256',
      '[providers.openai]',
      'cpus = 0.5',
    ].join('\n');
    const plan = await planLaunch({ requirement: { runtime: 'pyk', provider: 'openai' }, config: config(toml), home, kernelId: 'pyk-openai-00000001', env });
    // Curve by default: the kernel reads its writable copy (ipykernel rewrites a file with curve keys).
    expect(plan.argv).toEqual(['python', '-m', 'ipykernel_launcher', '-f', '/run/llmspell-fleet/connection.json']);
    expect(plan.curve).toBe(true);
    expect(plan.kube?.kernelCopy).toBe(true);
    expect(plan.interruptMode).toBe('message');
    expect(plan.connection).toBe('router-writes');
    expect(plan.kube).toMatchObject({
      image: 'localhost/k:1', namespace: 'kernels', limits: { memory_mb: 256, cpus: 0.5 }, home, nodeSelector: { pool: 'gpu' }, serviceAccount: 'kernel',
      podTemplate: join(env.HOME!, 'pod.yaml'), kubeconfig: join(env.HOME!, '.kube', 'fleet'), context: 'prod',
    });
    expect(plan.container).toBeUndefined();
  });

  it('launcher = "kubernetes" with curve = false: no keys, the kernel reads the mounted Secret itself', async () => {
    const toml = '[runtimes.pyk]\nargv = ["python", "-f", "{connection_file}"]\nlauncher = "kubernetes"\nimage = "i"\ncurve = false';
    const plan = await planLaunch({ requirement: { runtime: 'pyk', provider: 'openai' }, config: config(toml), home, env });
    expect(plan.argv).toEqual(['python', '-f', '/etc/llmspell-fleet/connection.json']);
    expect(plan.curve).toBeUndefined();
    expect(plan.kube?.kernelCopy).toBeUndefined();
  });

  it.each([
    ['cpu_seconds', 'cpu_seconds = 60', /cpu_seconds cannot be enforced on a pod .*or use cpus/],
    ['pids', 'pids = 64', /pids cannot be enforced on a pod/],
  ])('launcher = "kubernetes" with %s: BAD_CONFIG naming the key', async (_key, line, message) => {
    const toml = `[runtimes.pyk]\nargv = ["python", "{connection_file}"]\nlauncher = "kubernetes"\nimage = "i"\n[providers.openai]\n${line}`;
    const err = await planError(planLaunch({ requirement: { runtime: 'pyk', provider: 'openai' }, config: config(toml), home, env }));
    expect(err.code).toBe('BAD_CONFIG');
    expect(err.message).toMatch(message);
  });

  it('launcher = "kubernetes" with {config}: a host file is not in the pod', async () => {
    const toml = '[runtimes.pyk]\nargv = ["python", "{connection_file}", "{config}"]\nlauncher = "kubernetes"\nimage = "i"\n[providers.openai]\nconfig = "~/.llmspell/openai.toml"';
    const err = await planError(planLaunch({ requirement: { runtime: 'pyk', provider: 'openai' }, config: config(toml), home, env }));
    expect(err.message).toMatch(/a pod cannot read the provider's config file/);
  });

  it('a provider config file that does not exist is named', async () => {
    const c = config('[providers.openai]\nconfig = "/nowhere/openai.toml"\n');
    const err = await planError(planLaunch({ requirement: { runtime: 'lua', provider: 'openai' }, config: c, home, env }));
    expect(err.code).toBe('BAD_CONFIG');
    expect(err.context).toMatchObject({ provider: 'openai', file: '/nowhere/openai.toml' });
  });

  it.each([
    [{ runtime: 'cobol', provider: 'openai' }, 'UNKNOWN_RUNTIME'],
    [{ runtime: 'lua', provider: 'acme' }, 'UNKNOWN_PROVIDER'],
  ] as const)('%j -> %s', async (requirement, code) => {
    expect((await planError(planLaunch({ requirement, config: config(), home, env }))).code).toBe(code);
  });

  it('a missing kernelspec surfaces as KERNELSPEC_NOT_FOUND', async () => {
    const c = config('[runtimes.r]\nkernelspec = "no-such-kernel"\n');
    const bare = { PATH: join(tmp, 'nobin'), HOME: env.HOME };
    expect((await planError(planLaunch({ requirement: { runtime: 'r', provider: 'openai' }, config: c, home, env: bare }))).code).toBe(
      'KERNELSPEC_NOT_FOUND',
    );
  });

  it('layers spec env, provider env and runtime env; config sets timeouts and interrupt mode', async () => {
    const c = config(`
[runtimes.custom]
kernelspec = "custom"
interrupt_mode = "signal"
startup_timeout = 2.5
env = { SHARED = "runtime", PATH = "/only/this" }
[providers.openai]
env = { SHARED = "provider", OPENAI_API_KEY = "sk-x" }
`);
    const plan = await planLaunch({
      requirement: { runtime: 'custom', provider: 'openai' },
      config: c,
      home,
      kernelId: 'c1',
      env,
      findSpec: async () => ({
        dir: '/specs/kernels/custom',
        spec: { argv: ['ck', '{connection_file}', '--res={resource_dir}', '{prefix}'], env: { FROM_SPEC: '${HOME}/x', SHARED: 'spec' }, interrupt_mode: 'message' },
      }),
    });
    expect(plan.argv).toEqual(['ck', join(home, 'backends', 'c1.json'), '--res=/specs/kernels/custom', '{prefix}']);
    expect(plan.env).toEqual({ FROM_SPEC: `${env.HOME}/x`, SHARED: 'runtime', PATH: '/only/this', OPENAI_API_KEY: 'sk-x' });
    expect(plan.secretEnvKeys.sort()).toEqual(['OPENAI_API_KEY', 'PATH', 'SHARED']);
    expect(plan.interruptMode).toBe('signal');
    expect(plan.startupTimeoutMs).toBe(2500);
  });

  it('takes the interrupt mode from the spec when the runtime sets none', async () => {
    const plan = await planLaunch({
      requirement: { runtime: 'python', provider: 'openai' },
      config: config(),
      home,
      env,
      findSpec: async () => ({ dir: '/s/kernels/python3', spec: { argv: ['k', '{connection_file}'], interrupt_mode: 'message' } }),
    });
    expect(plan.interruptMode).toBe('message');
  });

  it.each(['../escape', 'a/b', ''])('refuses the unsafe kernel id %j', async (kernelId) => {
    const err = await planError(planLaunch({ requirement: { runtime: 'javascript', provider: 'openai' }, config: config(), home, kernelId, env }));
    expect(err.code).toBe('BAD_CONFIG');
  });

  it('starts no process and writes nothing', async () => {
    await planLaunch({ requirement: { runtime: 'javascript', provider: 'openai' }, config: defaultFleetConfig(), home, env });
    expect(existsSync(home)).toBe(false);
  });
});

describe('helpers', () => {
  it('newKernelId is runtime-provider-8hex and random', () => {
    const a = newKernelId({ runtime: 'lua', provider: 'openai' });
    expect(a).toMatch(/^lua-openai-[0-9a-f]{8}$/);
    expect(newKernelId({ runtime: 'lua', provider: 'openai' })).not.toBe(a);
  });

});
