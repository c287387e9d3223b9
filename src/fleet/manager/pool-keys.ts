/**
 * Whether a spare sees the provider keys a request's own backend would see (issue #12). A
 * router hands the manager its provider keys with each request (shared/provider-keys.ts): a
 * spare started with other keys (or none) must not be handed to it. Pure; the values are
 * secrets, so only names ever leave this module.
 */
import { providerEnv } from '../adapter-plan.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface SpareKeysInput {
  provider: string;
  /** The spare's environment as it was started (/proc/PID/environ). */
  spareEnv: Env;
  /** The manager's environment, which every backend starts from. */
  managerEnv: Env;
  /** The request's keys. */
  requestKeys: Env;
  /** What config sets for the requirement (provider and runtime env): the same for both. */
  configured: Env;
}

/** Pure: the names of the provider's key variables whose values differ; empty when the spare fits. */
export function differingKeys(input: SpareKeysInput): string[] {
  const wanted = providerEnv(input.provider, { ...input.managerEnv, ...input.requestKeys, ...input.configured });
  const has = providerEnv(input.provider, input.spareEnv);
  const names = new Set([...Object.keys(wanted), ...Object.keys(has)]);
  return [...names].filter((name) => wanted[name] !== has[name]).sort();
}

/** Pure: /proc/PID/environ's text (NUL-separated NAME=value) as a record. */
export function parseEnviron(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of text.split('\0')) {
    const at = entry.indexOf('=');
    if (at > 0) env[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return env;
}
