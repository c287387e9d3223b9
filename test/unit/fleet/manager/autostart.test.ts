import { describe, expect, it } from 'vitest';
import { lingerDelay } from '../../../../src/fleet/manager/attachments.js';
import { CA_ASIDE_VARIABLE, cliEntryFor, managerEnv, restoreSetAsideEnv } from '../../../../src/fleet/manager/autostart.js';
import { managerPlan } from '../../../../src/fleet/manager/launch.js';
import { litter } from '../../../../src/fleet/manager/maintenance.js';
import type { LaunchPlan } from '../../../../src/fleet/types.js';

describe('cliEntryFor', () => {
  it.each([
    ['built', '/pkg/dist/src/fleet/manager/autostart.js', '/pkg', '/pkg/dist/src/cli/main.js'],
    ['installed elsewhere', '/usr/lib/node_modules/llmspell-fleet/dist/src/fleet/manager/autostart.js', undefined, '/usr/lib/node_modules/llmspell-fleet/dist/src/cli/main.js'],
    ['from sources (vitest)', '/pkg/src/fleet/manager/autostart.ts', '/pkg', '/pkg/dist/src/cli/main.js'],
    ['from sources, no package root', '/x/src/fleet/manager/autostart.ts', undefined, undefined],
    ['from the bundle (a chunk): the unbundled CLI', '/pkg/dist/bundle/chunk-AB12CD34.js', '/pkg', '/pkg/dist/src/cli/main.js'],
    ['from the bundle, in a folder named src', '/src/dist/bundle/chunk-AB12CD34.js', '/src', '/src/dist/src/cli/main.js'],
    ['from the bundle, no package root', '/pkg/dist/bundle/chunk-AB12CD34.js', undefined, undefined],
  ])('%s', (_name, file, root, expected) => {
    expect(cliEntryFor(file, root)).toBe(expected);
  });
});

describe('managerEnv', () => {
  it.each([
    ['pins the home', { PATH: '/bin' }, { PATH: '/bin', LLMSPELL_FLEET_HOME: '/h' }],
    ['replaces another home', { LLMSPELL_FLEET_HOME: '/other' }, { LLMSPELL_FLEET_HOME: '/h' }],
    [
      "drops the starting session's kernel variables",
      { JPY_PARENT_PID: '77', JPY_SESSION_NAME: '/nb.ipynb', LLMSPELL_RUNTIME: 'lua', LLMSPELL_PROVIDER: 'x', KERNEL_LLMSPELL_PROVIDER: 'y', HOME: '/u' },
      { HOME: '/u', LLMSPELL_FLEET_HOME: '/h' },
    ],
    ['keeps provider keys, which backends need', { OPENAI_API_KEY: 'sk' }, { OPENAI_API_KEY: 'sk', LLMSPELL_FLEET_HOME: '/h' }],
    ['skips undefined values', { A: undefined }, { LLMSPELL_FLEET_HOME: '/h' }],
    ["traces to a file of its own when the starter traces (the bench)", { LLMSPELL_FLEET_STARTUP_TRACE: '/t/r.trace' }, { LLMSPELL_FLEET_STARTUP_TRACE: '/t/r.trace.manager', LLMSPELL_FLEET_HOME: '/h' }],
    ['an empty trace variable stays empty (tracing off)', { LLMSPELL_FLEET_STARTUP_TRACE: '' }, { LLMSPELL_FLEET_STARTUP_TRACE: '', LLMSPELL_FLEET_HOME: '/h' }],
    ['sets the CA bundle aside: node would parse it at start', { NODE_EXTRA_CA_CERTS: '/ca.pem' }, { [CA_ASIDE_VARIABLE]: '/ca.pem', LLMSPELL_FLEET_HOME: '/h' }],
  ])('%s', (_name, env, expected) => {
    expect(managerEnv(env, '/h')).toEqual(expected);
  });
});

describe('restoreSetAsideEnv', () => {
  it.each([
    ['puts the CA bundle back for the backends', { [CA_ASIDE_VARIABLE]: '/ca.pem', A: '1' }, { NODE_EXTRA_CA_CERTS: '/ca.pem', A: '1' }],
    ['leaves an environment with nothing set aside alone', { NODE_EXTRA_CA_CERTS: '/own.pem' }, { NODE_EXTRA_CA_CERTS: '/own.pem' }],
    ['managerEnv then restore: the starter\'s bundle', managerEnv({ NODE_EXTRA_CA_CERTS: '/ca.pem' }, '/h'), { NODE_EXTRA_CA_CERTS: '/ca.pem', LLMSPELL_FLEET_HOME: '/h' }],
  ])('%s', (_name, env: Record<string, string | undefined>, expected) => {
    const copy = { ...env };
    restoreSetAsideEnv(copy);
    expect(copy).toEqual(expected);
  });
});

describe('lingerDelay', () => {
  it.each([
    ['linger 0', 1000, 0, 1000, 0],
    ['just idle', 1000, 300_000, 1000, 300_000],
    ['idle for a while (adopted)', 1000, 300_000, 101_000, 200_000],
    ['overdue', 1000, 5000, 99_000, 0],
  ])('%s', (_name, since, linger, now, expected) => {
    expect(lingerDelay(since, linger, now)).toBe(expected);
  });
});

describe('managerPlan', () => {
  it('launches backends with an empty JPY_PARENT_PID, so they outlive the manager', () => {
    const plan = { kernelId: 'k', env: { LLMSPELL_PROVIDER: 'openai' } } as unknown as LaunchPlan;
    expect(managerPlan(plan).env).toEqual({ LLMSPELL_PROVIDER: 'openai', JPY_PARENT_PID: '' });
    expect(plan.env).toEqual({ LLMSPELL_PROVIDER: 'openai' });
  });
});

describe('litter', () => {
  const owned = new Set(['/h/backends/mine.json']);
  const mentioned = (path: string) => path === '/h/backends/local-router.json';
  it.each([
    ['owned connection file', { name: 'mine.json', path: '/h/backends/mine.json', ageMs: 1e6 }, false],
    ['orphan connection file', { name: 'gone.json', path: '/h/backends/gone.json', ageMs: 1e6 }, true],
    ['a live process still has it in argv', { name: 'local-router.json', path: '/h/backends/local-router.json', ageMs: 1e6 }, false],
    ['old temporary file', { name: 'x.json.1.ab.tmp', path: '/h/backends/x.json.1.ab.tmp', ageMs: 120_000 }, true],
    ['fresh temporary file (a write in progress)', { name: 'x.json.1.ab.tmp', path: '/h/backends/x.json.1.ab.tmp', ageMs: 10 }, false],
    ['something else', { name: 'notes.txt', path: '/h/backends/notes.txt', ageMs: 1e6 }, false],
  ])('%s', (_name, entry, removed) => {
    expect(litter([entry], owned, mentioned)).toEqual(removed ? [entry.path] : []);
  });
});
