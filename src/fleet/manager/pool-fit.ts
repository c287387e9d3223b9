/**
 * Whether a spare can be handed to a request (issue #12): it must see the provider keys a
 * backend started for that request would see. The comparison is pure (pool-keys.ts); this
 * reads the spare's environment from /proc and logs the names (never the values) that differ.
 */
import type { Logger } from '../../shared/log.js';
import type { FleetConfig } from '../types.js';
import type { ManagedBackend } from './entry.js';
import { differingKeys, parseEnviron } from './pool-keys.js';
import { readProc } from './proc.js';

/** Whether the spare sees the provider keys a backend started for this request would see. */
export function spareFits(spare: ManagedBackend, keys: Record<string, string>, config: FleetConfig, managerEnv: Record<string, string | undefined>, log: Logger): boolean {
  // A request's keys never reach such a backend: one started for it would have the spare's env.
  if (spare.init.providerKeys === false) return true;
  const environ = readProc(spare.pid, 'environ');
  if (environ === undefined) return false;
  const { runtime, provider } = spare.requirement;
  const configured = {
    ...(Object.hasOwn(config.providers, provider) ? config.providers[provider]!.env : {}),
    ...(Object.hasOwn(config.runtimes, runtime) ? config.runtimes[runtime]!.env : {}),
  };
  const differ = differingKeys({ provider, spareEnv: parseEnviron(environ), managerEnv, requestKeys: keys, configured });
  if (differ.length > 0) log.info({ kernelId: spare.kernelId, differ }, 'a spare does not fit the request: its provider keys differ');
  return differ.length === 0;
}
