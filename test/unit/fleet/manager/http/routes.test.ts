import { describe, expect, it } from 'vitest';
import { matchRoute } from '../../../../../src/fleet/manager/http/routes.js';

describe('matchRoute', () => {
  it.each([
    ['GET', '/api/v1/backends', 'listBackends', {}],
    ['POST', '/api/v1/backends', 'spawnBackend', {}],
    ['POST', '/api/v1/backends:find-or-spawn', 'findOrSpawnBackend', {}],
    ['GET', '/api/v1/backends/lua-openai-1', 'getBackend', { id: 'lua-openai-1' }],
    ['HEAD', '/api/v1/backends/lua-openai-1', 'getBackend', { id: 'lua-openai-1' }],
    ['GET', '/api/v1/backends/a%20b', 'getBackend', { id: 'a b' }],
    ['POST', '/api/v1/backends/k/stop', 'stopBackend', { id: 'k' }],
    ['POST', '/api/v1/backends/k/interrupt', 'interruptBackend', { id: 'k' }],
    ['POST', '/api/v1/backends/k/restart', 'restartBackend', { id: 'k' }],
    ['GET', '/api/v1/backends/k/logs', 'backendLogs', { id: 'k' }],
    ['GET', '/api/v1/health', 'health', {}],
    ['GET', '/api/v1/events', 'events', {}],
    ['GET', '/api/v1/openapi.json', 'openapi', {}],
    ['GET', '/metrics', 'metrics', {}],
  ])('%s %s is %s', (method, path, name, params) => {
    const m = matchRoute(method, path);
    expect(m.kind === 'route' ? { name: m.route.name, params: m.params } : m).toEqual({ name, params });
  });

  it.each([
    ['GET', '/', { kind: 'not-found' }],
    ['GET', '/api/v1/backends/', { kind: 'not-found' }],
    ['GET', '/api/v1/backends/a/b', { kind: 'not-found' }],
    ['GET', '/api/v1/backends/k/pause', { kind: 'not-found' }],
    ['GET', '/api/v1/backends/%E0%A4%A', { kind: 'not-found' }],
    ['DELETE', '/api/v1/backends', { kind: 'method-not-allowed', allow: ['GET', 'POST'] }],
    ['GET', '/api/v1/backends/k/stop', { kind: 'method-not-allowed', allow: ['POST'] }],
    ['GET', '/api/v1/backends/k/interrupt', { kind: 'method-not-allowed', allow: ['POST'] }],
    ['POST', '/metrics', { kind: 'method-not-allowed', allow: ['GET'] }],
  ])('%s %s matches no route', (method, path, expected) => {
    expect(matchRoute(method, path)).toEqual(expected);
  });
});
