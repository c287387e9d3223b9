import { describe, expect, it } from 'vitest';
import { containerLauncher, launcherFor, processLauncher, settleBackend, signalBackend } from '../../../../src/fleet/launchers/launcher.js';
import type { LaunchPlan } from '../../../../src/fleet/types.js';

const PLAN: LaunchPlan = {
  kernelId: 'pyc-openai-0a1b2c3d',
  requirement: { runtime: 'pyc', provider: 'openai' },
  argv: ['python', '-m', 'ipykernel_launcher', '-f', '/h/backends/pyc-openai-0a1b2c3d.json'],
  env: { JPY_PARENT_PID: '' },
  connection: 'router-writes',
  interruptMode: 'signal',
  connectionFile: '/h/backends/pyc-openai-0a1b2c3d.json',
  logFile: '/h/logs/pyc-openai-0a1b2c3d.log',
  startupTimeoutMs: 60_000,
  secretEnvKeys: [],
};
const CONTAINER = { image: 'localhost/k', engine: 'podman' as const, limits: { pids: 32 }, home: '/h', readOnlyFiles: ['/h/backends/pyc-openai-0a1b2c3d.json'] };

describe('launchers', () => {
  it('a plan with a container part goes to the container launcher, any other to the process launcher', () => {
    expect(launcherFor(PLAN)).toBe(processLauncher);
    expect(launcherFor({ ...PLAN, container: CONTAINER })).toBe(containerLauncher);
  });

  it('the process launcher runs argv as it is, with the environment it is given', async () => {
    const env = { PATH: '/usr/bin' };
    expect(await processLauncher.command(PLAN, env)).toEqual({ argv: PLAN.argv, env, configKey: 'runtimes.pyc.argv (or its kernelspec)' });
  });

  it('the container launcher runs the engine client with the kernel argv after the image, and says what the registry keeps', async () => {
    const command = await containerLauncher.command({ ...PLAN, container: CONTAINER }, { PATH: process.env.PATH ?? '' });
    expect(command.argv.slice(0, 4)).toEqual(['podman', 'run', '--name', 'llmspell-fleet-pyc-openai-0a1b2c3d']);
    expect(command.argv.slice(-6)).toEqual(['localhost/k', ...PLAN.argv]);
    expect(command.argv).toContain('--pids-limit');
    expect(command.container).toEqual({ engine: 'podman', name: 'llmspell-fleet-pyc-openai-0a1b2c3d' });
    expect(command.configKey).toBe('runtimes.pyc.container_engine');
  });

  it('a missing engine is SPAWN_FAILED naming container_engine', async () => {
    const error = await containerLauncher.command({ ...PLAN, container: { ...CONTAINER, engine: 'docker' } }, { PATH: '/nonexistent' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'SPAWN_FAILED' });
    expect((error as Error).message).toMatch(/docker was not found on PATH; install it, or set runtimes\.pyc\.container_engine/);
  });

  it.each([
    ['a process backend: the group, whatever the signal', undefined, 'SIGKILL', ['SIGKILL']],
    ['a container: SIGTERM to the engine client, which passes it in', { engine: 'podman' as const, name: 'c' }, 'SIGTERM', ['SIGTERM']],
    ['a container: SIGINT likewise', { engine: 'podman' as const, name: 'c' }, 'SIGINT', ['SIGINT']],
  ] as const)('signalBackend, %s', (_name, container, signal, sent) => {
    const got: string[] = [];
    expect(signalBackend({ container }, signal, (s) => got.push(s) > 0)).toBe(true);
    expect(got).toEqual(sent);
  });

  it('settling a process backend asks nothing and changes nothing', async () => {
    expect(await settleBackend({}, { exitCode: 1, signal: null })).toEqual({});
  });
});
