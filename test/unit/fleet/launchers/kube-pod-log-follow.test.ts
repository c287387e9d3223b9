import { describe, expect, it } from 'vitest';
import { podLogPath } from '../../../../src/fleet/launchers/kube/pod-log-follow.js';

describe('podLogPath', () => {
  it.each([
    [{ namespace: 'llmspell-fleet', pod: 'llmspell-k1' }, 50, '/api/v1/namespaces/llmspell-fleet/pods/llmspell-k1/log?container=kernel&follow=true&tailLines=50'],
    [{ namespace: 'ns', pod: 'p' }, 0, '/api/v1/namespaces/ns/pods/p/log?container=kernel&follow=true&tailLines=0'],
    [{ namespace: 'ns', pod: 'p' }, -3, '/api/v1/namespaces/ns/pods/p/log?container=kernel&follow=true&tailLines=0'],
    [{ namespace: 'ns', pod: 'p' }, 2.7, '/api/v1/namespaces/ns/pods/p/log?container=kernel&follow=true&tailLines=2'],
  ])('%j, tail %d', (ref, tail, path) => {
    expect(podLogPath(ref, tail)).toBe(path);
  });
});
