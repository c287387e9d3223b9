/**
 * The OpenAPI 3.1 document of the HTTP API, built from the route table (routes.ts), so a route
 * cannot exist without being documented. A test checks it against the live server.
 */
import { VERSION } from '../../../shared/package.js';
import { ROUTES, type Route } from './routes.js';

const NAME = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]*$' };

const SCHEMAS = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string', description: 'the request field that is wrong' } } } },
  },
  Requirement: { type: 'object', required: ['runtime', 'provider'], additionalProperties: false, properties: { runtime: NAME, provider: NAME, group: NAME } },
  Backend: {
    type: 'object',
    required: ['kernelId', 'pid', 'requirement', 'state', 'startedAt', 'ports', 'attached'],
    properties: {
      kernelId: { type: 'string' },
      pid: { type: 'integer' },
      requirement: { $ref: '#/components/schemas/Requirement' },
      state: { enum: ['starting', 'ready', 'busy', 'restarting', 'stopping', 'dead', 'spare'] },
      spare: { enum: ['warming', 'ready'], description: 'a spare of the pre-warmed pool ([pool] in fleet.toml): warming while it starts and runs its startup code' },
      startedAt: { type: 'integer', description: 'ms since the epoch' },
      ports: { type: 'array', items: { type: 'integer' }, description: 'shell, iopub, stdin, control, hb' },
      attached: { type: 'array', items: { type: 'object', properties: { routerId: { type: 'string' }, pid: { type: 'integer' } } } },
      rssBytes: { type: 'integer' },
      cpuPercent: { type: 'number', description: "CPU % of its process group (100 = one core) since the manager's last list, or over its life at the first" },
      messagesRelayed: { type: 'integer', description: 'messages its routers relayed (every channel, both directions) since the manager started' },
      logFile: { type: 'string' },
      limits: { type: 'object', description: 'memory_mb, cpus, pids, cpu_seconds, … in force (fleet.toml, the provider winning)' },
      enforcedBy: { enum: ['cgroup-v1', 'cgroup-v2', 'prlimit', 'none'] },
      lastExit: {
        type: 'object',
        description: 'a dead backend: how it ended',
        properties: { reason: { type: 'string' }, cause: { type: 'string' }, exitCode: { type: ['integer', 'null'] }, signal: { type: ['string', 'null'] } },
      },
    },
  },
  BackendList: { type: 'object', required: ['backends'], properties: { backends: { type: 'array', items: { $ref: '#/components/schemas/Backend' } } } },
  Stopped: { type: 'object', required: ['stopped'], properties: { stopped: { type: 'array', items: { type: 'object' } } } },
  Log: { type: 'object', required: ['kernelId', 'logFile', 'text'], properties: { kernelId: { type: 'string' }, logFile: { type: 'string' }, text: { type: 'string' } } },
  FleetEvent: {
    type: 'object',
    description: 'the data of one event (JSON on one line); its type is also the SSE `event:` field',
    required: ['type', 'kernelId', 'runtime', 'provider', 'time'],
    properties: {
      type: { enum: ['spawned', 'ready', 'attached', 'detached', 'busy', 'idle', 'restarting', 'restarted', 'exited', 'stopped'] },
      kernelId: { type: 'string' },
      runtime: { type: 'string' },
      provider: { type: 'string' },
      group: { type: 'string' },
      time: { type: 'integer', description: 'ms since the epoch' },
      routerId: { type: 'string', description: 'attached, detached: the router (notebook session)' },
      reason: { type: 'string', description: 'exited, stopped: exited, signalled, stopped, linger, memory-limit, pids-limit, cpu-time-limit, …' },
      exitCode: { type: ['integer', 'null'] },
      signal: { type: ['string', 'null'] },
      cause: { type: 'string', description: 'exited by a limit: its own words, e.g. "killed: memory limit 512 MB reached"' },
    },
  },
  Interrupted: {
    type: 'object',
    required: ['interrupted', 'mode'],
    properties: { interrupted: { type: 'string', description: 'the backend id' }, mode: { enum: ['signal', 'message'] } },
  },
  Health: {
    type: 'object',
    required: ['status', 'unhealthy', 'backends'],
    properties: { status: { enum: ['ok', 'unhealthy'] }, unhealthy: { type: 'array', items: { type: 'string' } }, backends: { type: 'array', items: { type: 'object' } } },
  },
} as const;

const OK_SCHEMA: Record<Route['name'], string | undefined> = {
  listBackends: 'BackendList',
  getBackend: 'Backend',
  spawnBackend: 'Backend',
  findOrSpawnBackend: 'Backend',
  stopBackend: 'Stopped',
  restartBackend: 'Backend',
  interruptBackend: 'Interrupted',
  backendLogs: 'Log',
  health: 'Health',
  openapi: undefined,
  metrics: undefined,
  events: undefined,
};

const EVENTS_DESCRIPTION =
  'A stream that stays open: each event is `event: <type>` and `data: <FleetEvent JSON>`, and a `: keepalive` comment comes every 15 s. ' +
  'Only changes after the client connects are sent; read the list first. An open stream keeps the manager from its idle exit.';

const DESCRIPTION: Record<number, string> = {
  200: 'OK',
  201: 'Spawned',
  400: 'A field is wrong (error.field names it)',
  401: 'Token missing or wrong (empty body)',
  404: 'No such backend',
  409: 'The fleet cannot do it now (backend not ready, or it failed to start)',
  503: 'Some backends are unhealthy (named in `unhealthy`)',
  504: 'The backend did not answer in time (it may be hung)',
};

function response(route: Route, status: number): Record<string, unknown> {
  const description = DESCRIPTION[status] ?? 'See the error';
  if (route.name === 'metrics') return { description, content: { 'text/plain': { schema: { type: 'string' } } } };
  if (route.name === 'events') return { description: EVENTS_DESCRIPTION, content: { 'text/event-stream': { schema: { $ref: '#/components/schemas/FleetEvent' } } } };
  if (route.name === 'openapi') return { description, content: { 'application/json': { schema: { type: 'object' } } } };
  if (route.name === 'backendLogs' && status === 200) {
    return { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Log' } }, 'text/event-stream': { schema: { type: 'string', description: 'with ?follow=1' } } } };
  }
  const schema = status >= 400 && route.name !== 'health' ? 'Error' : status === 503 ? 'Health' : OK_SCHEMA[route.name];
  return { description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } } };
}

function operation(route: Route): Record<string, unknown> {
  const statuses = route.auth === 'token' ? [...route.statuses, 401] : route.statuses;
  const op: Record<string, unknown> = {
    operationId: route.name,
    summary: route.summary,
    responses: Object.fromEntries(statuses.map((s) => [String(s), s === 401 ? { description: DESCRIPTION[401] } : response(route, s)])),
  };
  const parameters: unknown[] = [];
  if (route.path.includes('{id}')) parameters.push({ name: 'id', in: 'path', required: true, schema: NAME, description: 'kernel id (see list)' });
  if (route.name === 'backendLogs') {
    parameters.push({ name: 'tail', in: 'query', required: false, schema: { type: 'integer', minimum: 0, maximum: 10000, default: 50 } });
    parameters.push({
      name: 'follow',
      in: 'query',
      required: false,
      schema: { enum: ['1', 'true'] },
      description: 'stream instead (text/event-stream): the tail, then each new line as `event: line` with the line as a JSON string; `event: end` when the backend stops or its log is gone',
    });
  }
  if (parameters.length > 0) op.parameters = parameters;
  if (route.name === 'spawnBackend' || route.name === 'findOrSpawnBackend') {
    op.requestBody = { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Requirement' } } } };
  }
  if (route.auth === 'metrics') op.security = [{}, { bearer: [] }];
  return op;
}

/** Pure: the document. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) (paths[route.path] ??= {})[route.method.toLowerCase()] = operation(route);
  return {
    openapi: '3.1.0',
    info: {
      title: 'llmspell-fleet manager API',
      version: VERSION,
      description:
        'The fleet manager of one user. Base URL and token: `llmspell-fleet dashboard` (or $LLMSPELL_FLEET_HOME/http.json). ' +
        'On a loopback address, any request whose Host header names another host or port gets 421 with an empty body (DNS rebinding).',
    },
    components: {
      schemas: SCHEMAS,
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'the token from http.json; `?token=` once also works and sets an HttpOnly SameSite=Strict cookie. ' +
            'A POST authenticated by that cookie alone must also carry `X-Requested-With: llmspell-fleet`, or it gets 403 (CSRF).',
        },
      },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
