/**
 * The fleet's events as the HTTP API streams them (GET /api/v1/events, server-sent events).
 * They are derived from what `list` shows: the stream keeps the last list it saw and, each
 * time the fleet says something changed, says what differs. One source of truth (the list),
 * so the stream cannot tell a story the list does not. Pure.
 */
import type { FleetExit } from '../fleet-options.js';
import type { FleetEvent, FleetEventType, ListedBackend } from '../protocol.js';

export type { FleetEvent, FleetEventType } from '../protocol.js';


const RUNNING = new Set(['ready', 'busy']);

/**
 * Pure: the events that lead from `before` to `after`. `exits` says how backends that ended did
 * (a backend that left the list without one was forgotten, e.g. by cleanup: no event).
 */
export function fleetEvents(before: readonly ListedBackend[], after: readonly ListedBackend[], exits: ReadonlyMap<string, FleetExit>, time: number): FleetEvent[] {
  const events: FleetEvent[] = [];
  const prev = new Map(before.map((b) => [b.kernelId, b]));
  const next = new Map(after.map((b) => [b.kernelId, b]));
  const of = (b: ListedBackend, type: FleetEventType, extra: Partial<FleetEvent> = {}): FleetEvent => {
    const e: FleetEvent = { type, kernelId: b.kernelId, runtime: b.requirement.runtime, provider: b.requirement.provider, time, ...extra };
    if (b.requirement.group !== undefined) e.group = b.requirement.group;
    return e;
  };
  const ended = (b: ListedBackend): FleetEvent | undefined => {
    const exit = exits.get(b.kernelId);
    if (exit === undefined) return undefined;
    const detail: Partial<FleetEvent> = { reason: exit.reason };
    if (exit.exitCode !== undefined) detail.exitCode = exit.exitCode;
    if (exit.signal !== undefined) detail.signal = exit.signal;
    if (exit.cause !== undefined) detail.cause = exit.cause;
    // Ended by the fleet (stop, linger, idle_cull_seconds) or on its own.
    return of(b, exit.reason === 'stopped' || exit.reason === 'linger' || exit.reason === 'culled' ? 'stopped' : 'exited', detail);
  };
  for (const b of after) {
    const old = prev.get(b.kernelId);
    // Listed as dead after it left the list (its exit was told then): nothing new.
    if (old === undefined && b.state === 'dead') continue;
    // Its state then goes on from starting, below.
    if (old === undefined) events.push(of(b, 'spawned'));
    const oldRouters = new Set((old?.attached ?? []).map((a) => a.routerId));
    const newRouters = new Set(b.attached.map((a) => a.routerId));
    for (const r of newRouters) if (!oldRouters.has(r)) events.push(of(b, 'attached', { routerId: r }));
    for (const r of oldRouters) if (!newRouters.has(r)) events.push(of(b, 'detached', { routerId: r }));
    const from = old?.state ?? 'starting';
    if (from === b.state) continue;
    if (b.state === 'busy') {
      if (!RUNNING.has(from)) events.push(of(b, from === 'restarting' ? 'restarted' : 'ready'));
      events.push(of(b, 'busy'));
    } else if (b.state === 'ready') {
      events.push(of(b, from === 'busy' ? 'idle' : from === 'restarting' ? 'restarted' : 'ready'));
    } else if (b.state === 'restarting' && old !== undefined) {
      events.push(of(b, 'restarting'));
    } else if (b.state === 'dead') {
      events.push(ended(b) ?? of(b, 'exited', { reason: 'exited' }));
    }
  }
  for (const b of before) {
    if (next.has(b.kernelId) || b.state === 'dead') continue;
    for (const a of b.attached) events.push(of(b, 'detached', { routerId: a.routerId }));
    const e = ended(b);
    if (e !== undefined) events.push(e);
  }
  return events;
}

/** Pure: one server-sent event; data is JSON on one line (JSON.stringify never emits a raw newline). */
export function sseEvent(type: string, data: unknown): string {
  return `event: ${sseField(type)}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Pure: a comment line, which clients ignore: it keeps proxies and idle timers from closing the stream. */
export function sseComment(text: string): string {
  return `: ${sseField(text)}\n\n`;
}

/** A field value cannot hold a line break: it would end the field. */
function sseField(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}
