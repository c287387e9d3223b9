import { describe, expect, it } from 'vitest';
import { dashboardLines, opener } from '../../../src/cli/commands/dashboard.js';

describe('dashboardLines', () => {
  it('puts the dashboard URL with its token first, then the home, as `jupyter server list` does', () => {
    const text = dashboardLines({ url: 'http://127.0.0.1:4000', token: 'abc', pid: 7 }, '/h');
    expect(text.split('\n')).toEqual([
      'fleet manager dashboard (pid 7):',
      'http://127.0.0.1:4000/?token=abc :: /h',
      'API:     http://127.0.0.1:4000/api/v1  (header "Authorization: Bearer abc"; OpenAPI: http://127.0.0.1:4000/api/v1/openapi.json)',
      'metrics: http://127.0.0.1:4000/metrics',
      '',
    ]);
  });
});

describe('opener', () => {
  it.each([
    ['linux', 'xdg-open'],
    ['darwin', 'open'],
    ['freebsd', 'xdg-open'],
  ] as const)('%s → %s', (platform, program) => {
    expect(opener(platform)).toBe(program);
  });
});
