/**
 * What `list` shows of each backend: its condition (conditions.ts) plus what other parts know of
 * it (output held while detached, messages relayed, a pod's status). Kept apart because capacity
 * refusals name the holders from the same view.
 */
import { watchedPod } from '../launchers/kube/api.js';
import { podStatusSummary } from '../launchers/kube/reasons.js';
import type { BackendConditions } from './conditions.js';
import type { DetachedOutputs } from './detached-output.js';
import type { ManagedBackend } from './entry.js';
import { maintenance } from './maintenance.js';
import type { ListedBackend } from './protocol.js';
import type { RelayTotals } from './relay-totals.js';

/** Every backend with what it is doing now (conditions.ts), and those that died lately. */
export function listBackends(fleet: {
  readonly backends: Map<string, ManagedBackend>;
  readonly conditions: BackendConditions;
  readonly detached: DetachedOutputs;
  readonly relay: RelayTotals;
}): ListedBackend[] {
  return fleet.conditions.list(maintenance.list(fleet.backends.values())).map((b) => {
    const held = fleet.detached.summary(b.kernelId);
    const messages = fleet.relay.messages(b.kernelId);
    const pod = b.kube !== undefined && b.state !== 'dead' ? watchedPod(b.kube) : undefined;
    return {
      ...b,
      ...(held === undefined ? {} : { heldOutput: held }),
      ...(messages === undefined ? {} : { messagesRelayed: messages }),
      ...(pod === undefined ? {} : { podStatus: podStatusSummary(pod) }),
    };
  });
}
