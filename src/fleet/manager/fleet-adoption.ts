/**
 * A new manager taking over what the registry says still runs (adopt.ts): each backend joins
 * the fleet as a spare or with the routers recorded as attached; then the pods no backend owns
 * are swept (kube-sweep.ts).
 */
import type { Logger } from '../../shared/log.js';
import type { FleetConfig } from '../types.js';
import { effectiveLimits } from '../limits.js';
import { adoptFromRegistry } from './adopt.js';
import type { Attachments } from './attachments.js';
import type { IdleCulling } from './culling.js';
import type { ManagedBackend } from './entry.js';
import { sweepFleetPods, watchAdoptedPod } from './kube-sweep.js';
import type { SparePool } from './pool.js';
import { isSameProcess } from './proc.js';

export interface AdoptionHost {
  home: string;
  log: Logger;
  env: Record<string, string | undefined>;
  pollMs: number;
  reattachGraceMs: number;
  /** The config loaded at start, if it loaded. */
  config: FleetConfig | undefined;
  add(backend: ManagedBackend): void;
  pool: Pick<SparePool, 'adopted'>;
  culling: Pick<IdleCulling, 'watch'>;
  attachments: Pick<Attachments, 'adopted'>;
}

/** Returns the kernel ids adopted and those the registry named that no longer run (forgotten). */
export async function adoptLeftRunning(host: AdoptionHost): Promise<{ adopted: string[]; forgotten: string[] }> {
  const adoption = await adoptFromRegistry(host.home, { pollMs: host.pollMs, logger: host.log, env: host.env });
  for (const { backend, record } of adoption.adopted) {
    host.add(backend);
    watchAdoptedPod(backend, (error) => host.log.warn({ kernelId: backend.kernelId, err: String(error) }, 'cannot watch the adopted backend\'s pod'));
    // A spare has nobody to wait for and no linger: it waits for a request.
    if (backend.spare !== undefined) {
      host.pool.adopted(backend);
      continue;
    }
    // When it last ran a cell is not recorded: its idle clock starts at adoption.
    if (host.config !== undefined) host.culling.watch(backend.kernelId, effectiveLimits(host.config, backend.requirement).idle_cull_seconds);
    // A recorded router pid that runs may be a reused one: that only costs the grace.
    host.attachments.adopted(backend, record, { graceMs: host.reattachGraceMs, routerRuns: (pid) => isSameProcess(pid, undefined) });
  }
  // Pods of backends the registry no longer knows (their stand-in died with the host, say) are litter now.
  const pods = await sweepFleetPods(host.home, host.config, adoption.adopted.map((a) => a.backend));
  if (pods.length > 0) host.log.info({ pods }, 'deleted pods and secrets no backend owns');
  return { adopted: adoption.adopted.map((a) => a.record.kernelId), forgotten: adoption.forgotten.map((f) => f.kernelId) };
}
