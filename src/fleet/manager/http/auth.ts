/**
 * Who may use the HTTP API: whoever shows the token from http.json (0600, so only this user can
 * read it). Pure functions; the server applies them to every request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const TOKEN_COOKIE = 'llmspell_fleet_token';

/** 32 random bytes, hex: what http.json holds. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/**
 * Pure: constant time whatever `given` is. Hashing both sides first makes the comparison's
 * length fixed, so neither the token's length nor a common prefix leaks through timing.
 */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (given === undefined || expected.length === 0) return false;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(given).digest();
  return timingSafeEqual(a, b);
}

export type TokenSource = 'header' | 'query' | 'cookie';

/**
 * Pure: the token a request shows, and where. A header wins over the query, the query over the
 * cookie: an explicit token is never shadowed by an old cookie.
 */
export function presentedToken(headers: { authorization?: string; cookie?: string }, query: URLSearchParams): { token: string; via: TokenSource } | undefined {
  const auth = headers.authorization;
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m?.[1] === undefined ? { token: '', via: 'header' } : { token: m[1], via: 'header' };
  }
  const q = query.get('token');
  if (q !== null) return { token: q, via: 'query' };
  const cookie = parseCookies(headers.cookie ?? '')[TOKEN_COOKIE];
  return cookie === undefined ? undefined : { token: cookie, via: 'cookie' };
}

/** Pure: `a=1; b=2` → {a: '1', b: '2'}; the first of a repeated name wins, as browsers send the most specific first. */
export function parseCookies(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (name.length === 0 || Object.hasOwn(out, name)) continue;
    out[name] = part.slice(eq + 1).trim();
  }
  return out;
}

/** The cookie set after a good `?token=`: script cannot read it, other sites cannot send it. */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
}

/**
 * Pure: whether a request's Host header may reach a server bound to a loopback address on
 * `port`. A web page whose DNS name is rebound to 127.0.0.1 still sends its own name as Host:
 * refusing it keeps such pages from reading even the open /metrics. A server bound elsewhere
 * was configured so on purpose and takes any Host (the token still guards the API).
 */
export function hostAllowed(host: string | undefined, port: number, boundToLoopback: boolean): boolean {
  if (!boundToLoopback) return true;
  if (host === undefined) return false;
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+)(?::(\d+))?$/.exec(host);
  if (m === null) return false;
  const name = (m[1] ?? '').toLowerCase();
  const loopbackName = name === 'localhost' || name === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
  return loopbackName && Number(m[2] ?? 80) === port;
}
