import { join, dirname, basename } from 'node:path';
import { describeError } from '../shared/errors.js';
import { runCommand } from '../shared/process.js';
import { findSystemExecutable } from '../shared/which.js';
import type { ProviderConfig, RuntimeConfig } from './types.js';
import { LLMSPELL_PROVIDER_SUFFIXES, PROVIDER_KEY_VARIABLES } from '../shared/provider-keys.js';

/**
 * How the fleet runs llmspell behind the adapter (`llmspell-fleet llmspell-adapter`). Pure
 * functions, except the one-time probe of whether this OS lets us make a network namespace.
 */

/** A runtime that starts llmspell runs behind the adapter unless it says adapter = "none". */
export function usesLlmspellAdapter(rt: RuntimeConfig): boolean {
  if (rt.adapter !== undefined) return rt.adapter === 'llmspell';
  const program = rt.argv?.[0];
  return program !== undefined && basename(program) === 'llmspell';
}

/**
 * `--config {config}` in an llmspell argv: kept when the provider has a config file, replaced by
 * `--profile <profile>` when it names one, else pointed at `generated`, a minimal config the
 * adapter writes for the provider (see adapters/llmspell/provider-config.ts), so a first run works
 * with no file at all. `generate` says whether the adapter must write it.
 */
export function withProviderArgs(argv: readonly string[], provider: ProviderConfig, generated: string): { argv: string[]; generate: boolean } {
  if (provider.config !== undefined) return { argv: [...argv], generate: false };
  const i = argv.findIndex((a, idx) => (a === '--config' || a === '-c') && argv[idx + 1] === '{config}');
  if (i < 0) return { argv: [...argv], generate: false };
  const replacement = provider.profile !== undefined ? ['--profile', provider.profile] : ['--config', generated];
  return { argv: [...argv.slice(0, i), ...replacement, ...argv.slice(i + 2)], generate: provider.profile === undefined };
}

/** `kernel-abc.json` -> `kernel-abc-llmspell.toml`: the llmspell config the adapter writes for a provider without one. */
export function llmspellProviderConfigFile(connectionFile: string): string {
  return join(dirname(connectionFile), `${basename(connectionFile, '.json')}-llmspell.toml`);
}

/**
 * The variables llmspell reads for `provider`, taken from the requester's environment: the
 * manager may have been started long before the user exported a key. Values are secrets.
 */
export function providerEnv(provider: string, env: Record<string, string | undefined>): Record<string, string> {
  const upper = provider.toUpperCase().replace(/[^A-Z0-9]/g, '_');
  const names = [...(PROVIDER_KEY_VARIABLES[provider] ?? []), ...LLMSPELL_PROVIDER_SUFFIXES.map((s) => `LLMSPELL_PROVIDER_${upper}_${s}`)];
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== '') out[name] = value;
  }
  return out;
}

export interface Isolation {
  ok: boolean;
  /** Why not, in words a user can act on. */
  why?: string;
}

let probed: Promise<Isolation> | undefined;

/**
 * Whether a private network namespace with a working loopback can be made here: `unshare -rn`
 * (user namespaces may be disabled) and `ip link set lo up` inside it (a new namespace's
 * loopback is down, and the adapter reaches llmspell over 127.0.0.1). Asked once per process.
 */
export function networkIsolation(): Promise<Isolation> {
  probed ??= probeIsolation();
  return probed;
}

async function probeIsolation(): Promise<Isolation> {
  const unshare = await findSystemExecutable('unshare', process.env.PATH);
  if (unshare === undefined) return { ok: false, why: 'unshare (util-linux) is not installed' };
  const ip = await findSystemExecutable('ip', process.env.PATH);
  if (ip === undefined) return { ok: false, why: 'ip (iproute2) is not installed, so a private namespace would have no loopback' };
  try {
    await runCommand(unshare, ['-rn', ip, 'link', 'set', 'lo', 'up'], { env: process.env, timeoutMs: 5000 });
    return { ok: true };
  } catch (error) {
    return { ok: false, why: `${describeError(error)}; unprivileged user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone)` };
  }
}

export interface AdapterArgvOptions {
  node: string;
  cli: string;
  connectionFile: string;
  logFile: string;
  runtime: RuntimeConfig;
  llmspellArgv: readonly string[];
  isolate: boolean;
  startupTimeoutSeconds: number;
  /** The provider whose minimal llmspell config the adapter writes (see withProviderArgs). */
  generateConfigFor?: string;
}

/** `kernel-abc.json` -> `kernel-abc-llmspell.json`, llmspell's own file beside the adapter's. */
export function llmspellConnectionFile(connectionFile: string): string {
  return join(dirname(connectionFile), `${basename(connectionFile, '.json')}-llmspell.json`);
}

/** The adapter command that starts and fronts llmspell; `unshare -rn` first when isolating. */
export function adapterArgv(o: AdapterArgvOptions): string[] {
  const argv = [
    o.node, o.cli, 'llmspell-adapter',
    '--connection-file', o.connectionFile,
    '--transport', o.isolate ? 'ipc' : 'tcp',
    ...(o.isolate ? ['--loopback-up'] : []),
    '--llmspell-connection-file', llmspellConnectionFile(o.connectionFile),
    '--llmspell-log', o.logFile,
    ...(o.generateConfigFor !== undefined
      ? ['--llmspell-provider', o.generateConfigFor, '--llmspell-provider-config', llmspellProviderConfigFile(o.connectionFile)]
      : []),
    '--interrupt', o.runtime.interrupt ?? 'notice',
    '--interrupt-grace', String(o.runtime.interrupt_grace_seconds ?? 5),
    '--startup-timeout', String(o.startupTimeoutSeconds),
    // Its stderr is the backend log here, so info is wanted (alone it defaults to warn).
    '--log-level', 'info',
    '--',
    ...o.llmspellArgv,
  ];
  // unshare execs the adapter (no fork), so the pid the fleet records is the adapter's.
  return o.isolate ? ['unshare', '-rn', ...argv] : argv;
}
