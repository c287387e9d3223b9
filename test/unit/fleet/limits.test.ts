import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../../../src/fleet/config.js';
import { describeLimits, effectiveLimits, hasLimits } from '../../../src/fleet/limits.js';
import type { BackendLimits } from '../../../src/fleet/types.js';

const TOML = `
max_backends = 4
[runtimes.python]
kernelspec = "python3"
memory_mb = 512
cpus = 0.5
pids = 64
[runtimes.javascript]
argv = ["tslab", "kernel", "--config-path", "{connection_file}"]
[providers.ollama]
memory_mb = 4096
idle_cull_seconds = 600
[providers.openai]
env = { LLMSPELL_PROVIDER = "openai" }
`;
const config = parseFleetConfig(TOML, '/etc/fleet.toml');

describe('effectiveLimits', () => {
  it.each<[string, string, string, BackendLimits]>([
    ['runtime limits alone', 'python', 'openai', { memory_mb: 512, cpus: 0.5, pids: 64 }],
    ['the provider wins key by key', 'python', 'ollama', { memory_mb: 4096, cpus: 0.5, pids: 64, idle_cull_seconds: 600 }],
    ['provider limits alone', 'javascript', 'ollama', { memory_mb: 4096, idle_cull_seconds: 600 }],
    ['none set', 'javascript', 'openai', {}],
    ['an unknown runtime gives none of its own', 'cobol', 'ollama', { memory_mb: 4096, idle_cull_seconds: 600 }],
    ['a prototype name is not a runtime', 'constructor', 'toString', {}],
  ])('%s: %s/%s', (_name, runtime, provider, expected) => {
    expect(effectiveLimits(config, { runtime, provider })).toEqual(expected);
  });

  it('reads max_backends at the top level', () => {
    expect(config.max_backends).toBe(4);
    expect(parseFleetConfig('', '/x').max_backends).toBeUndefined();
  });
});

describe('hasLimits and describeLimits', () => {
  it.each<[BackendLimits, boolean, string]>([
    [{}, false, 'no limits'],
    [{ memory_warn_percent: 80 }, false, 'no limits'],
    [{ memory_mb: 512 }, true, 'memory 512 MB'],
    [{ memory_mb: 512, cpus: 0.5, pids: 64, cpu_seconds: 30, idle_cull_seconds: 600 }, true, 'memory 512 MB, cpus 0.5, pids 64, cpu time 30 s, culled after 600 s idle'],
  ])('%j', (limits, has, text) => {
    expect(hasLimits(limits)).toBe(has);
    expect(describeLimits(limits)).toBe(text);
  });
});
