/**
 * Which local addresses listen on a TCP port, read from the kernel's own tables (/proc/net/tcp
 * and tcp6 of the caller's network namespace): proof of where a kernel bound, not what its
 * connection file claims.
 */
import { readFileSync } from 'node:fs';

const LISTEN = '0A';

/** "0100007F" (a little-endian word) → "127.0.0.1"; tcp6 words likewise, shown as hex groups. */
function address(hex: string): string {
  const words = hex.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  if (bytes.length === 4) return bytes.join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/** Every address listening on `port`, over IPv4 and IPv6 (e.g. ["127.0.0.1"], or ["0.0.0.0"] for a wildcard bind). */
export function listeningAddresses(port: number): string[] {
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue; // no IPv6 here
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local === undefined || state !== LISTEN) continue;
      const [hex = '', portHex = ''] = local.split(':');
      if (parseInt(portHex, 16) === port) found.push(address(hex));
    }
  }
  return found;
}
