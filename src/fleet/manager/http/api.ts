/**
 * The JSON API's handlers: each route becomes the same ManagerRequest the socket takes, checked
 * by the same schema (requests.ts) and run by the same operations (operations.ts). What is
 * HTTP-only lives here: status codes, the error shape, and keeping HMAC keys off the wire (a
 * backend handle's connection info is never returned).
 */
import { isFleetError } from '../../../shared/errors.js';
import { errorBody } from '../operations.js';
import type { HealthReport, ListedBackend, ManagerRequest } from '../protocol.js';
import { parseRequestValue } from '../requests.js';
import type { RouteName } from './routes.js';

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export interface ApiError {
  error: { code: string; message: string; field?: string };
}

/** Runs a request object through the manager's checks and operations (the socket's path). */
export type RunRequest = (raw: Record<string, unknown>) => Promise<unknown>;

export interface ApiInput {
  params: { id?: string };
  query: URLSearchParams;
  /** The decoded JSON body; undefined when there was none. */
  body: unknown;
}

/** A request the schema refused: thrown by `run`, answered 400. */
export class BadRequest extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** The request clashes with the backend's state (e.g. restarting one that is still starting): 409. */
export class ConflictError extends Error {}

const REQUIREMENT_KEYS = ['runtime', 'provider', 'group'];

/** Pure: the HTTP status for a FleetError code. */
export function statusForCode(code: string): number {
  switch (code) {
    case 'BAD_REQUEST':
    case 'UNKNOWN_RUNTIME':
    case 'UNKNOWN_PROVIDER':
      return 400;
    case 'UNKNOWN_BACKEND':
      return 404;
    // The fleet cannot do it in its present state (its config, a backend that will not start).
    case 'BAD_CONFIG':
    case 'KERNELSPEC_NOT_FOUND':
    case 'SPAWN_FAILED':
    case 'BACKEND_EXITED':
    case 'READY_TIMEOUT':
    case 'CONFLICT':
    case 'BACKEND_NOT_READY':
    // Not 503: retrying does not help until someone stops a backend or raises the limit.
    case 'FLEET_FULL':
      return 409;
    case 'MANAGER_UNAVAILABLE':
      return 503;
    // A backend did not answer in time (an interrupt_request to a hung kernel).
    case 'REQUEST_TIMEOUT':
      return 504;
    default:
      return 500;
  }
}

/** Pure: an error as the API answers it. Context (which may name files) stays in the manager's log. */
export function errorAnswer(error: unknown): ApiAnswer {
  if (error instanceof BadRequest) {
    const body: ApiError = { error: { code: 'BAD_REQUEST', message: error.message } };
    if (error.field !== undefined) body.error.field = error.field;
    return { status: 400, body };
  }
  if (error instanceof ConflictError) return { status: 409, body: { error: { code: 'CONFLICT', message: error.message } } satisfies ApiError };
  const { code, message } = errorBody(error);
  const body: ApiError = { error: { code, message } };
  const field = FIELD_OF_CODE[code];
  if (field !== undefined) body.error.field = field;
  return { status: isFleetError(error) ? statusForCode(code) : 500, body };
}

/** A 400 names the field that is wrong, also when the config (not the schema) refused its value. */
const FIELD_OF_CODE: Readonly<Record<string, string>> = { UNKNOWN_RUNTIME: 'runtime', UNKNOWN_PROVIDER: 'provider' };

/**
 * Pure: the socket schema's message for a request built from a route, said in the route's
 * terms: the body is the requirement, the path's {id} is the kernel id.
 */
export function httpProblem(message: string, field: string | undefined): BadRequest {
  const rename = (f: string) => f.replace(/^requirement\.?/, '').replace(/^kernelId$/, 'id') || 'body';
  const text = message.replace(/^op "[^"]+": /, '');
  if (field === undefined) return new BadRequest(text);
  const named = rename(field);
  return new BadRequest(text.startsWith(field) ? `${named}${text.slice(field.length)}` : text, named);
}

/** `raw` checked as the socket checks it, or BadRequest with the schema's words. */
export function checkedRequest(raw: Record<string, unknown>): ManagerRequest {
  const parsed = parseRequestValue({ id: 0, ...raw });
  if (!parsed.ok) throw httpProblem(parsed.message, parsed.field);
  return parsed.request;
}

/** Pure: the body of a spawn: a requirement, with no field the fleet would silently drop. */
export function requirementBody(body: unknown): Record<string, unknown> {
  if (body === undefined) throw new BadRequest('body is missing: it must be a JSON requirement {runtime, provider, group?}', 'body');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequest('body must be a JSON object {runtime, provider, group?}', 'body');
  const unknown = Object.keys(body).find((k) => !REQUIREMENT_KEYS.includes(k));
  if (unknown !== undefined) throw new BadRequest(`${unknown} is not a known field; allowed: ${REQUIREMENT_KEYS.join(', ')}`, unknown);
  return body as Record<string, unknown>;
}

/** Pure: ?tail=N as a number the schema then checks (anything not an integer stays a string and is refused). */
export function tailParam(query: URLSearchParams): number | string | undefined {
  const raw = query.get('tail');
  if (raw === null) return undefined;
  return /^\d{1,9}$/.test(raw) ? Number(raw) : raw;
}

/** Pure: the health answer: 503 naming the backends whose process or heartbeat fails. */
export function healthAnswer(reports: HealthReport[]): ApiAnswer {
  const unhealthy = reports.filter((r) => !r.processAlive || !r.heartbeat).map((r) => r.kernelId);
  return { status: unhealthy.length === 0 ? 200 : 503, body: { status: unhealthy.length === 0 ? 'ok' : 'unhealthy', unhealthy, backends: reports } };
}

export async function answer(name: Exclude<RouteName, 'openapi' | 'metrics' | 'events'>, input: ApiInput, run: RunRequest): Promise<ApiAnswer> {
  const id = input.params.id;
  const get = () => run({ op: 'get', kernelId: id }) as Promise<ListedBackend>;
  switch (name) {
    case 'listBackends':
      return { status: 200, body: { backends: await run({ op: 'list' }) } };
    case 'getBackend':
      return { status: 200, body: await get() };
    case 'spawnBackend':
    case 'findOrSpawnBackend': {
      const op = name === 'spawnBackend' ? 'spawn' : 'find';
      const handle = (await run({ op, requirement: requirementBody(input.body) })) as { record: { kernelId: string } };
      return { status: name === 'spawnBackend' ? 201 : 200, body: await listedOr(run, handle.record) };
    }
    case 'stopBackend': {
      // By id only: the socket's `stop` also takes a port, which a path segment must not mean.
      await get();
      const { stopped } = (await run({ op: 'stop', target: id })) as { stopped: unknown[] };
      return { status: 200, body: { stopped } };
    }
    case 'restartBackend': {
      const notRunning = runningOr409(await get(), 'restarted');
      if (notRunning) return notRunning;
      // No router asks: every attached router hears backend-restarted.
      const handle = (await run({ op: 'restart', kernelId: id, routerId: 'http-api' })) as { record: { kernelId: string } };
      return { status: 200, body: await listedOr(run, handle.record) };
    }
    case 'interruptBackend': {
      // By id only, as stop: a path segment must not mean a port.
      const notRunning = runningOr409(await get(), 'interrupted');
      if (notRunning) return notRunning;
      return { status: 200, body: await run({ op: 'interrupt', target: id }) };
    }
    case 'backendLogs':
      return { status: 200, body: await run({ op: 'logs', kernelId: id, tail: tailParam(input.query) }) };
    case 'health':
      return healthAnswer((await run({ op: 'health' })) as HealthReport[]);
  }
}

/** Pure: a 409 for a backend that is not ready or busy (starting, stopping, dead), else undefined. */
function runningOr409(backend: { kernelId: string; state: string }, done: string): ApiAnswer | undefined {
  if (backend.state === 'ready' || backend.state === 'busy') return undefined;
  return errorAnswer(new ConflictError(`backend ${backend.kernelId} is ${backend.state}; only a ready or busy backend can be ${done}`));
}

/** The backend as `list` shows it; with linger_seconds = 0 an unused one may be gone already, then its record. */
async function listedOr(run: RunRequest, record: { kernelId: string }): Promise<unknown> {
  try {
    return await run({ op: 'get', kernelId: record.kernelId });
  } catch {
    return record;
  }
}
