import { describe, expect, it } from 'vitest';
import { dashboardLines } from '../../../src/cli/commands/dashboard.js';

describe('dashboardLines', () => {
  it('puts the URL with its token first, then the home, as `jupyter server list` does', () => {
    const text = dashboardLines({ url: 'http://127.0.0.1:4000', token: 'abc', pid: 7 }, '/h');
    expect(text.split('\n')).toEqual([
      'fleet manager HTTP API (pid 7); no web page yet, only the JSON API and /metrics:',
      'http://127.0.0.1:4000/api/v1/backends?token=abc :: /h',
      'API:     http://127.0.0.1:4000/api/v1  (header "Authorization: Bearer abc"; OpenAPI: http://127.0.0.1:4000/api/v1/openapi.json)',
      'metrics: http://127.0.0.1:4000/metrics',
      '',
    ]);
  });
});
