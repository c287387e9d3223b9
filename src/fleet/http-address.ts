/**
 * `[http] listen = "HOST:PORT"` (fleet.toml): pure parsing and the loopback test that decides
 * whether an address is private to this machine. IPv6 hosts are written in brackets.
 */
import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  /** 0: the OS picks a free port. */
  port: number;
}

export const DEFAULT_HTTP_LISTEN = '127.0.0.1:0';

/** Pure: "127.0.0.1:9464" or "[::1]:9464" → host and port; undefined when it is neither. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)|(localhost)):(\d{1,5})$/.exec(text);
  if (m === null) return undefined;
  const host = m[1] ?? m[2] ?? m[3] ?? '';
  const port = Number(m[4]);
  if (port > 65535) return undefined;
  if (host !== 'localhost' && isIP(host) === 0) return undefined;
  if (m[1] !== undefined && isIP(host) !== 6) return undefined;
  return { host, port };
}

/** Pure: true for 127.0.0.0/8, ::1 and localhost: only this machine can reach them. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** Pure: what the manager logs as a warning when [http] listen is not loopback (it was set so on purpose); undefined on loopback. */
export function listenWarning(host: string): string | undefined {
  if (isLoopbackHost(host)) return undefined;
  return 'the HTTP API listens on a non-loopback address: anyone who can reach it and has the token controls the fleet';
}

/** The URL origin for a bound address (IPv6 in brackets). */
export function httpOrigin(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}
