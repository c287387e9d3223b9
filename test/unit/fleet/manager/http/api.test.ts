import { describe, expect, it } from 'vitest';
import { ConflictError, errorAnswer, healthAnswer, httpProblem, requirementBody, statusForCode, tailParam } from '../../../../../src/fleet/manager/http/api.js';
import { FleetError } from '../../../../../src/shared/errors.js';

describe('statusForCode', () => {
  it.each([
    ['BAD_REQUEST', 400],
    ['UNKNOWN_RUNTIME', 400],
    ['UNKNOWN_BACKEND', 404],
    ['SPAWN_FAILED', 409],
    ['READY_TIMEOUT', 409],
    ['BACKEND_NOT_READY', 409],
    ['FLEET_FULL', 409],
    ['MANAGER_UNAVAILABLE', 503],
    ['REQUEST_TIMEOUT', 504],
    ['MANAGER_ERROR', 500],
  ])('%s → %i', (code, status) => {
    expect(statusForCode(code)).toBe(status);
  });
});

describe('errorAnswer', () => {
  it.each([
    ['a FleetError, without its context', new FleetError('UNKNOWN_BACKEND', 'no backend k', { kernelId: 'k' }), 404, { error: { code: 'UNKNOWN_BACKEND', message: 'no backend k' } }],
    ['a refused field', httpProblem('op "get": kernelId must be a backend id (got "a b")', 'kernelId'), 400, { error: { code: 'BAD_REQUEST', message: 'id must be a backend id (got "a b")', field: 'id' } }],
    ['a conflict', new ConflictError('backend k is starting'), 409, { error: { code: 'CONFLICT', message: 'backend k is starting' } }],
    ['a backend that did not answer in time', new FleetError('REQUEST_TIMEOUT', 'backend k did not answer interrupt_request within 10 s', { kernelId: 'k' }), 504, { error: { code: 'REQUEST_TIMEOUT', message: 'backend k did not answer interrupt_request within 10 s' } }],
    ['a runtime the config does not define names its field', new FleetError('UNKNOWN_RUNTIME', 'unknown runtime "nope"', { runtime: 'nope' }), 400, { error: { code: 'UNKNOWN_RUNTIME', message: 'unknown runtime "nope"', field: 'runtime' } }],
    ['a provider the config does not define names its field', new FleetError('UNKNOWN_PROVIDER', 'unknown provider "nope"', { provider: 'nope' }), 400, { error: { code: 'UNKNOWN_PROVIDER', message: 'unknown provider "nope"', field: 'provider' } }],
    ['a bug', new TypeError('x is undefined'), 500, { error: { code: 'MANAGER_ERROR', message: 'the fleet manager failed: x is undefined; see its log' } }],
  ])('%s', (_name, error, status, body) => {
    expect(errorAnswer(error)).toEqual({ status, body });
  });
});

describe('httpProblem', () => {
  it.each([
    ['a requirement field is named as the body field', 'op "spawn": requirement.runtime must be a name (got "a/b")', 'requirement.runtime', 'runtime must be a name (got "a/b")', 'runtime'],
    ['a missing requirement is the body', 'op "spawn": requirement must be {runtime, provider}', 'requirement', 'body must be {runtime, provider}', 'body'],
    ['the tail keeps its name', 'op "logs": tail must be a whole number', 'tail', 'tail must be a whole number', 'tail'],
    ['no field', 'op "x": something', undefined, 'something', undefined],
  ])('%s', (_name, message, field, text, named) => {
    const p = httpProblem(message, field);
    expect({ message: p.message, field: p.field }).toEqual({ message: text, field: named });
  });
});

describe('requirementBody', () => {
  it('passes a requirement through', () => {
    expect(requirementBody({ runtime: 'lua', provider: 'openai', group: 'g' })).toEqual({ runtime: 'lua', provider: 'openai', group: 'g' });
  });

  it.each([
    ['no body', undefined, 'body', /body is missing/],
    ['an array', [1], 'body', /must be a JSON object/],
    ['a string', 'lua', 'body', /must be a JSON object/],
    ['an unknown field', { runtime: 'lua', provider: 'p', cwd: '/x' }, 'cwd', /cwd is not a known field; allowed: runtime, provider, group/],
  ])('refuses %s', (_name, body, field, message) => {
    let thrown: unknown;
    try {
      requirementBody(body);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ field });
    expect((thrown as Error).message).toMatch(message);
  });
});

describe('tailParam', () => {
  it.each([
    ['', undefined],
    ['tail=5', 5],
    ['tail=0', 0],
    ['tail=-1', '-1'],
    ['tail=1.5', '1.5'],
    ['tail=x', 'x'],
  ])('%j', (query, expected) => {
    expect(tailParam(new URLSearchParams(query))).toBe(expected);
  });
});

describe('healthAnswer', () => {
  const ok = { kernelId: 'a', pid: 1, processAlive: true, heartbeat: true };
  it.each([
    ['no backends', [], 200, []],
    ['all healthy', [ok], 200, []],
    ['a dead heartbeat', [ok, { ...ok, kernelId: 'b', heartbeat: false }], 503, ['b']],
    ['a dead process', [{ ...ok, processAlive: false }], 503, ['a']],
  ])('%s', (_name, reports, status, unhealthy) => {
    const a = healthAnswer(reports);
    expect(a.status).toBe(status);
    expect(a.body).toMatchObject({ unhealthy, status: status === 200 ? 'ok' : 'unhealthy' });
  });
});
