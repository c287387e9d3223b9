import { describe, expect, it } from 'vitest';
import { adapterArgv, llmspellConnectionFile } from '../../../src/fleet/adapter-plan.js';

const LLMSPELL = ['llmspell', '--profile', 'openai-prod', 'kernel', 'start', '--port', '0', '--connection-file', '/f/b/k1-llmspell.json'];
const options = (isolate: boolean) => ({
  node: '/usr/bin/node',
  cli: '/x/main.js',
  connectionFile: '/f/b/k1.json',
  logFile: '/f/logs/k1.log',
  runtime: { interrupt: 'restart' as const, interrupt_grace_seconds: 0.5 },
  llmspellArgv: LLMSPELL,
  isolate,
  startupTimeoutSeconds: 60,
});
const ADAPTER = [
  '/usr/bin/node', '/x/main.js', 'llmspell-adapter', '--connection-file', '/f/b/k1.json',
  '--llmspell-connection-file', '/f/b/k1-llmspell.json', '--llmspell-log', '/f/logs/k1.log',
  '--interrupt', 'restart', '--interrupt-grace', '0.5', '--startup-timeout', '60', '--log-level', 'info', '--', ...LLMSPELL,
];

describe('adapterArgv', () => {
  it.each([
    [false, ['--transport', 'tcp'], []],
    // A new network namespace has loopback down: the adapter must bring it up to reach llmspell's
    // 127.0.0.1 ports. unshare execs the adapter, so its pid is the one the fleet records.
    [true, ['--transport', 'ipc', '--loopback-up'], ['unshare', '-rn']],
  ])('isolate %s: %j, prefix %j, argv passed through untouched', (isolate, flags, prefix) => {
    const argv = adapterArgv(options(isolate));
    expect(argv.slice(0, prefix.length)).toEqual(prefix);
    const adapter = argv.slice(prefix.length);
    const t = adapter.indexOf('--transport');
    expect(adapter.slice(t, t + flags.length)).toEqual(flags);
    expect([...adapter.slice(0, t), ...adapter.slice(t + flags.length)]).toEqual(ADAPTER);
  });

  it('puts llmspell\'s own connection file beside the adapter\'s', () => {
    expect(llmspellConnectionFile('/f/b/lua-openai-1a2b3c4d.json')).toBe('/f/b/lua-openai-1a2b3c4d-llmspell.json');
  });
});
