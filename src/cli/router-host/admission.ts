/**
 * Pure: whether the host serves a stub's session, or sends it back to the standalone router
 * (`fallback`), which then runs exactly as it would without the host. The host serves only
 * its own install (same node, same entry script: another version's router must run its own
 * code) and only routers of the fleet (a --local router's private backend lives and dies
 * with its own process).
 */
import { isLocalRouter, type RouterFlags } from '../router-plan.js';
import { PROTOCOL_VERSION, type StubHello } from './protocol.js';
import type { RouterArgs } from './router-args.js';

/** Node and the entry script, as real paths. */
export interface Install {
  node: string;
  entry: string;
}

export type Admission = { kind: 'serve'; flags: RouterFlags } | { kind: 'fallback'; reason: string };

export interface AdmissionInput {
  hello: StubHello;
  /** The host's own install. */
  host: Install;
  /** The stub's argv[0] and argv[1] (its node and entry), as real paths. */
  stub: Install;
  args: RouterArgs;
}

export function admit({ hello, host, stub, args }: AdmissionInput): Admission {
  if (hello.v !== PROTOCOL_VERSION) return { kind: 'fallback', reason: `protocol version ${hello.v} (this host speaks ${PROTOCOL_VERSION})` };
  if (stub.node !== host.node) return { kind: 'fallback', reason: `another node (${stub.node}; this host runs ${host.node})` };
  if (stub.entry !== host.entry) return { kind: 'fallback', reason: `another llmspell-fleet (${stub.entry}; this host runs ${host.entry})` };
  if (!args.ok) return { kind: 'fallback', reason: args.problem };
  if (isLocalRouter(args.flags, hello.env)) return { kind: 'fallback', reason: 'a --local router runs its private backend in its own process' };
  return { kind: 'serve', flags: args.flags };
}
