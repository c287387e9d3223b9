/**
 * Pure: one request line → a typed ManagerRequest, or the reason it is refused. The socket is
 * private to the user, but a buggy client must get a clear BAD_REQUEST, never a crash or an
 * op run with half its fields.
 */
import { isAbsolute } from 'node:path';
import { SAFE_NAME as NAME } from '../../shared/names.js';
import type { Requirement } from '../../shared/requirement.js';
import type { ManagerOp, ManagerRequest } from './protocol.js';

export type ParsedRequest = { ok: true; request: ManagerRequest } | { ok: false; id: number; message: string };

const OPS: readonly ManagerOp[] = ['ping', 'acquire', 'attach', 'release', 'restart', 'spawn', 'find', 'list', 'stop', 'stop-all', 'cleanup', 'health', 'shutdown'];

type Fields = Record<string, unknown>;

function nameField(o: Fields, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && NAME.test(v) ? v : undefined;
}

function requirementField(o: Fields): Requirement | undefined {
  const r = o.requirement;
  if (typeof r !== 'object' || r === null) return undefined;
  const f = r as Fields;
  const runtime = nameField(f, 'runtime');
  const provider = nameField(f, 'provider');
  if (runtime === undefined || provider === undefined) return undefined;
  if (f.group === undefined) return { runtime, provider };
  const group = nameField(f, 'group');
  return group === undefined ? undefined : { runtime, provider, group };
}

function pidField(o: Fields): number | undefined {
  return typeof o.pid === 'number' && Number.isSafeInteger(o.pid) && o.pid > 0 ? o.pid : undefined;
}

function stringField(o: Fields, key: string): string | undefined {
  const v = o[key];
  return typeof v === 'string' && v.length > 0 && v.length <= 256 ? v : undefined;
}

export function parseRequest(line: string): ParsedRequest {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, id: -1, message: 'request is not valid JSON' };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, id: -1, message: 'request must be a JSON object' };
  const o = raw as Fields;
  const id = typeof o.id === 'number' && Number.isSafeInteger(o.id) ? o.id : undefined;
  if (id === undefined) return { ok: false, id: -1, message: 'request needs an integer "id"' };
  const op = o.op as ManagerOp;
  if (!OPS.includes(op)) return { ok: false, id, message: `unknown op ${JSON.stringify(o.op)}; known: ${OPS.join(', ')}` };
  const bad = (what: string): ParsedRequest => ({ ok: false, id, message: `op "${op}" needs ${what}` });

  switch (op) {
    case 'acquire':
    case 'spawn':
    case 'find': {
      const requirement = requirementField(o);
      if (requirement === undefined) return bad('"requirement": {runtime, provider, group?} with names of letters, digits, _ . -');
      if (o.cwd !== undefined && !(typeof o.cwd === 'string' && isAbsolute(o.cwd))) return bad('"cwd", when given, to be an absolute path');
      const where = typeof o.cwd === 'string' ? { cwd: o.cwd } : {};
      if (op !== 'acquire') return { ok: true, request: { id, op, requirement, ...where } };
      const routerId = stringField(o, 'routerId');
      const pid = pidField(o);
      if (routerId === undefined || pid === undefined) return bad('"routerId" (string) and "pid" (positive integer)');
      return { ok: true, request: { id, op, requirement, routerId, pid, ...where } };
    }
    case 'attach': {
      const kernelId = nameField(o, 'kernelId');
      const routerId = stringField(o, 'routerId');
      const pid = pidField(o);
      if (kernelId === undefined || routerId === undefined || pid === undefined) return bad('"kernelId", "routerId" and "pid"');
      return { ok: true, request: { id, op, kernelId, routerId, pid } };
    }
    case 'release':
    case 'restart': {
      const kernelId = nameField(o, 'kernelId');
      const routerId = stringField(o, 'routerId');
      if (kernelId === undefined || routerId === undefined) return bad('"kernelId" and "routerId"');
      return { ok: true, request: { id, op, kernelId, routerId } };
    }
    case 'stop': {
      const target = stringField(o, 'target');
      if (target === undefined) return bad('"target": a backend id or one of its ports');
      return { ok: true, request: { id, op, target } };
    }
    default:
      return { ok: true, request: { id, op } as ManagerRequest };
  }
}
