/**
 * What the fleet-scale bench watches from outside the manager: its CPU and memory from /proc,
 * its HTTP API with the token of http.json, and its event stream as a browser's EventSource
 * would read it.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseStatLine, CLOCK_TICKS_PER_SECOND } from '../src/fleet/manager/proc-usage.js';
import { readProc, rssBytes } from '../src/fleet/manager/proc.js';

export interface Manager { url: string; token: string; pid: number }

/** http.json, which the manager writes once its first requests are answered (it defers HTTP so routers go first). */
export async function managerHttp(home: string, timeoutMs = 30_000): Promise<Manager> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(join(home, 'http.json'), 'utf8').catch(() => undefined);
    if (text !== undefined) return JSON.parse(text) as Manager;
    if (Date.now() > deadline) throw new Error(`no ${join(home, 'http.json')} after ${timeoutMs} ms: the manager's HTTP server did not start; see its log in ${home}`);
    await sleep(50);
  }
}

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const text = readProc(pid, 'stat');
  const line = text === undefined ? undefined : parseStatLine(text);
  if (line === undefined) throw new Error(`process ${pid} is gone: the manager exited during the bench; see its log`);
  return line.cpuTicks / CLOCK_TICKS_PER_SECOND;
}

export function residentMb(pid: number): number {
  return (rssBytes(pid) ?? Number.NaN) / 1024 / 1024;
}

export async function api(m: Manager, path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(m.url + path, { ...init, headers: { authorization: `Bearer ${m.token}`, 'content-type': 'application/json', ...init.headers } });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path} answered ${res.status}: ${await res.text()}`);
  return res;
}

/** Pure: the complete server-sent events at the front of `buffer`, and what is left of it. */
export function parseSse(buffer: string): { events: { type: string; data: string }[]; rest: string } {
  const events: { type: string; data: string }[] = [];
  const blocks = buffer.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let type = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) type = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) events.push({ type, data: data.join('\n') });
  }
  return { events, rest };
}

/** When (performance.now()) each fleet event of each backend first arrived on /api/v1/events. */
export class EventWatch {
  readonly arrived = new Map<string, number>();
  /** ms from the manager's noting the change (the event's `time`) to its arrival here, per event. */
  readonly delivery = new Map<string, number>();
  readonly #waiters: { key: string; resolve: (t: number) => void }[] = [];
  readonly #abort = new AbortController();
  #done: Promise<void> = Promise.resolve();

  static async open(m: Manager): Promise<EventWatch> {
    const watch = new EventWatch();
    const res = await api(m, '/api/v1/events', { signal: watch.#abort.signal });
    watch.#done = watch.#read(res.body!.getReader());
    return watch;
  }

  async #read(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const t = performance.now();
        const parsed = parseSse(buffer + decoder.decode(value, { stream: true }));
        buffer = parsed.rest;
        for (const e of parsed.events) {
          const data = JSON.parse(e.data) as { kernelId: string; time: number };
          const key = `${e.type} ${data.kernelId}`;
          if (this.arrived.has(key)) continue;
          this.arrived.set(key, t);
          this.delivery.set(key, performance.timeOrigin + t - data.time);
          for (const w of this.#waiters.filter((x) => x.key === key)) w.resolve(t);
        }
      }
    } catch (error) {
      if ((error as Error).name !== 'AbortError') throw error;
    }
  }

  /** When `type` for `kernelId` arrived (at once if it has). */
  when(type: string, kernelId: string): Promise<number> {
    const key = `${type} ${kernelId}`;
    const t = this.arrived.get(key);
    if (t !== undefined) return Promise.resolve(t);
    return new Promise((resolve) => this.#waiters.push({ key, resolve }));
  }

  async close(): Promise<void> {
    this.#abort.abort();
    await this.#done.catch(() => undefined);
  }
}
