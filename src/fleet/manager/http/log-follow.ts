/**
 * GET /api/v1/backends/{id}/logs?follow=1: the last lines of a backend's log, then each new
 * line as it is written, as server-sent events. Polls the file's size (a log is appended to
 * by the backend, never rewritten, so size is enough). Ends when the backend leaves the fleet
 * (after a last read) or its log is gone, or when the client leaves. A pod backend's log is the
 * pod's, followed through the Kubernetes API until the pod ends (client-node loaded only then).
 */
import { open } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { readTail } from '../../log-tail.js';
import type { FleetManager } from '../fleet.js';
import type { KubeRef } from '../../types.js';
import { sseEvent } from './events.js';
import { keepAlive, onClientLeft, openEventStream } from './sse.js';

export const LOG_POLL_MS = 250;

/** Pure: the complete lines in `pending` (without their newline) and what is left after the last. */
export function completeLines(pending: string): { lines: string[]; rest: string } {
  const end = pending.lastIndexOf('\n');
  if (end < 0) return { lines: [], rest: pending };
  return { lines: pending.slice(0, end).split('\n').map((l) => l.replace(/\r$/, '')), rest: pending.slice(end + 1) };
}

/** Pure: `?follow=` turned on (1 or true). */
export function followParam(query: URLSearchParams): boolean {
  const v = query.get('follow');
  return v === '1' || v === 'true';
}

export interface FollowTarget {
  fleet: FleetManager;
  kernelId: string;
  logFile: string;
  tail: number;
}

export async function followLog(target: FollowTarget, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>, pollMs = LOG_POLL_MS): Promise<void> {
  const { fleet, kernelId, logFile } = target;
  const kube = fleet.list().find((b) => b.kernelId === kernelId)?.kube;
  if (kube !== undefined) return followPod(target, kube, req, res, headers);
  const first = await readTail(logFile, target.tail);
  const write = openEventStream(res, headers, `log of ${kernelId}`);
  for (const line of completeLines(first.text).lines) write(sseEvent('line', line));
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  let pos = first.size;
  let pending = '';
  const decoder = new StringDecoder('utf8');
  let left = false;
  const readNew = async (): Promise<'ok' | 'gone'> => {
    let handle;
    try {
      handle = await open(logFile, 'r');
    } catch {
      return 'gone';
    }
    try {
      const { size } = await handle.stat();
      if (size < pos) pos = 0; // truncated: start over
      while (pos < size) {
        const buf = Buffer.alloc(Math.min(64 * 1024, size - pos));
        const { bytesRead } = await handle.read(buf, 0, buf.length, pos);
        if (bytesRead === 0) break;
        pos += bytesRead;
        const split = completeLines(pending + decoder.write(buf.subarray(0, bytesRead)));
        for (const line of split.lines) write(sseEvent('line', line));
        pending = split.rest;
      }
      return 'ok';
    } finally {
      await handle.close();
    }
  };
  const running = () => fleet.list().some((b) => b.kernelId === kernelId && b.state !== 'dead');
  const stopKeepalive = keepAlive(res, write);
  let wake = () => undefined as void;
  onClientLeft(req, res, () => {
    left = true;
    wake();
  });
  try {
    while (!left && !res.writableEnded) {
      // Read before deciding: a backend's last words land before it leaves the fleet.
      const wasRunning = running();
      const state = await readNew();
      if (state === 'gone' || !wasRunning) {
        if (pending.length > 0) write(sseEvent('line', pending));
        write(sseEvent('end', { kernelId, reason: state === 'gone' ? 'the log is gone' : 'the backend is no longer running' }));
        break;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pollMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    stopKeepalive();
  }
}

/** A pod backend: the API streams the kernel container's log and ends it when the pod ends. */
async function followPod(target: FollowTarget, kube: KubeRef, req: IncomingMessage, res: ServerResponse, headers: Record<string, string>): Promise<void> {
  const { followPodLog } = await import('../../launchers/kube/pod-log-follow.js');
  const write = openEventStream(res, headers, `log of ${target.kernelId} (pod ${kube.namespace}/${kube.pod})`);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const left = new AbortController();
  onClientLeft(req, res, () => left.abort());
  const stopKeepalive = keepAlive(res, write);
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let reason = 'the pod has ended';
  try {
    await followPodLog(kube, target.tail, left.signal, (chunk) => {
      const split = completeLines(pending + decoder.write(chunk));
      for (const line of split.lines) write(sseEvent('line', line));
      pending = split.rest;
    });
    if (pending.length > 0) write(sseEvent('line', pending));
  } catch (error) {
    reason = (error as Error).message;
  }
  try {
    if (!left.signal.aborted && !res.writableEnded) write(sseEvent('end', { kernelId: target.kernelId, reason }));
  } finally {
    stopKeepalive();
  }
}
