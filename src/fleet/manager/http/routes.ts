/**
 * The HTTP API's routes, as data: the server matches them, the OpenAPI document lists them, and
 * a test checks that the two agree with what the live server answers. Pure.
 */

export type RouteName =
  | 'listBackends'
  | 'getBackend'
  | 'spawnBackend'
  | 'findOrSpawnBackend'
  | 'stopBackend'
  | 'restartBackend'
  | 'interruptBackend'
  | 'backendLogs'
  | 'health'
  | 'events'
  | 'openapi'
  | 'metrics';

export interface Route {
  name: RouteName;
  method: 'GET' | 'POST';
  /** OpenAPI path template; `{id}` is one path segment. */
  path: string;
  summary: string;
  /** Status codes it answers with (besides 401 for a missing token, which every API route has). */
  statuses: number[];
  /** Whether it needs the token (metrics: only with [http] metrics_auth = true). */
  auth: 'token' | 'metrics';
}

export const API_PREFIX = '/api/v1';

export const ROUTES: readonly Route[] = [
  { name: 'listBackends', method: 'GET', path: `${API_PREFIX}/backends`, summary: 'Every backend with its state (llmspell-fleet list)', statuses: [200], auth: 'token' },
  { name: 'spawnBackend', method: 'POST', path: `${API_PREFIX}/backends`, summary: 'Spawn a new backend for a requirement, even if one runs', statuses: [201, 400, 409], auth: 'token' },
  { name: 'findOrSpawnBackend', method: 'POST', path: `${API_PREFIX}/backends:find-or-spawn`, summary: 'The running backend for a requirement, or a new one', statuses: [200, 400, 409], auth: 'token' },
  { name: 'getBackend', method: 'GET', path: `${API_PREFIX}/backends/{id}`, summary: 'One backend', statuses: [200, 400, 404], auth: 'token' },
  { name: 'stopBackend', method: 'POST', path: `${API_PREFIX}/backends/{id}/stop`, summary: 'Stop a backend (its clients see it exit)', statuses: [200, 400, 404], auth: 'token' },
  { name: 'restartBackend', method: 'POST', path: `${API_PREFIX}/backends/{id}/restart`, summary: 'Replace a backend with a new one of the same requirement; attached clients move over', statuses: [200, 400, 404, 409], auth: 'token' },
  { name: 'interruptBackend', method: 'POST', path: `${API_PREFIX}/backends/{id}/interrupt`, summary: "Interrupt a backend's running cell in its own interrupt mode (SIGINT or interrupt_request); 504 when it does not answer interrupt_request in time", statuses: [200, 400, 404, 409, 504], auth: 'token' },
  { name: 'backendLogs', method: 'GET', path: `${API_PREFIX}/backends/{id}/logs`, summary: "The last lines of a backend's log (?tail=N, default 50)", statuses: [200, 400, 404], auth: 'token' },
  { name: 'health', method: 'GET', path: `${API_PREFIX}/health`, summary: 'Fleet health: 200, or 503 naming the backends that fail', statuses: [200, 503], auth: 'token' },
  { name: 'events', method: 'GET', path: `${API_PREFIX}/events`, summary: 'Fleet events as server-sent events (spawned, ready, attached, detached, busy, idle, restarting, restarted, exited, stopped)', statuses: [200], auth: 'token' },
  { name: 'openapi', method: 'GET', path: `${API_PREFIX}/openapi.json`, summary: 'This document', statuses: [200], auth: 'token' },
  { name: 'metrics', method: 'GET', path: '/metrics', summary: 'Prometheus metrics (text exposition format)', statuses: [200], auth: 'metrics' },
];

export type RouteMatch = { kind: 'route'; route: Route; params: { id?: string } } | { kind: 'method-not-allowed'; allow: string[] } | { kind: 'not-found' };

/** Pure: which route a method and a (decoded-free) path name. `{id}` never matches an empty segment or one with a "/". */
export function matchRoute(method: string, pathname: string): RouteMatch {
  const allow: string[] = [];
  for (const route of ROUTES) {
    const params = matchPath(route.path, pathname);
    if (params === undefined) continue;
    if (route.method === method || (route.method === 'GET' && method === 'HEAD')) return { kind: 'route', route, params };
    allow.push(route.method);
  }
  return allow.length > 0 ? { kind: 'method-not-allowed', allow } : { kind: 'not-found' };
}

function matchPath(template: string, pathname: string): { id?: string } | undefined {
  const [before, after] = template.split('{id}') as [string, string | undefined];
  if (after === undefined) return template === pathname ? {} : undefined;
  if (!pathname.startsWith(before) || !pathname.endsWith(after)) return undefined;
  const raw = pathname.slice(before.length, pathname.length - after.length);
  if (raw.length === 0 || raw.includes('/')) return undefined;
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return { id };
}
