import type { Logger } from '../shared/log.js';
import type { RejectReason } from '../wire/codec.js';

/** What a router has relayed and refused; logged when it stops. */
export interface RouterStats {
  /** `channel:reason` -> messages dropped for that reason. */
  rejected: Partial<Record<string, number>>;
  forwardedToBackend: number;
  forwardedToClients: number;
  iopubPublished: number;
}

export function emptyStats(): RouterStats {
  return { rejected: {}, forwardedToBackend: 0, forwardedToClients: 0, iopubPublished: 0 };
}

/** Count a dropped message. The first few of each kind are logged at warn, then every 1000th, so a flood cannot fill the disk. */
export function countDrop(stats: RouterStats, logger: Logger, channel: string, reason: RejectReason | string): void {
  const key = `${channel}:${reason}`;
  const n = (stats.rejected[key] ?? 0) + 1;
  stats.rejected[key] = n;
  if (n <= 5 || n % 1000 === 0) logger.warn({ channel, reason, count: n }, 'message dropped');
}
