/**
 * What every server-sent event stream of the HTTP API shares: its headers, the keep-alive
 * comments, and noticing that the client left. What a stream sends is its own (event-stream.ts,
 * log-follow.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sseComment } from './events.js';

/** A comment this often: proxies and clients that time out a silent connection keep it. */
export const KEEPALIVE_MS = 15_000;

/**
 * Sends the headers and a first comment naming the stream. The returned `write` writes
 * nothing once the response ended (the server ends it when it closes).
 */
export function openEventStream(res: ServerResponse, headers: Record<string, string>, comment: string): (text: string) => void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no', ...headers });
  res.write(sseComment(comment));
  return (text) => {
    if (!res.writableEnded) res.write(text);
  };
}

/** Keep-alive comments through `write` until the returned stop, which also ends the response. */
export function keepAlive(res: ServerResponse, write: (text: string) => void, ms = KEEPALIVE_MS): () => void {
  const timer = setInterval(() => write(sseComment('keepalive')), ms);
  return () => {
    clearInterval(timer);
    if (!res.writableEnded) res.end();
  };
}

/** `left` runs when the client goes: the response closed, or the request was torn down. */
export function onClientLeft(req: IncomingMessage, res: ServerResponse, left: () => void): void {
  res.once('close', left);
  req.once('close', () => {
    if (req.destroyed) left();
  });
}
