/** What a BackendSlot (backend-slot.ts) tells its router, and the options it is made with. */
import type { BackendExit } from '../shared/backend.js';
import type { DetachedOutput } from '../shared/detached-output.js';
import type { Logger } from '../shared/log.js';
import type { Requirement as RequirementRef } from '../shared/requirement.js';
import type { RejectReason, WireMessage } from '../wire/codec.js';
import type { RequestChannel } from './backend-link.js';
import type { BackendSlot } from './backend-slot.js';
import type { BackendDirectory } from './types.js';

export type SlotState = 'starting' | 'ready' | 'failed' | 'closed';

export interface SlotEvents {
  onClientBound(slot: BackendSlot, channel: RequestChannel, msg: WireMessage): void;
  onIopub(slot: BackendSlot, msg: WireMessage): void;
  onRejected(channel: string, reason: RejectReason): void;
  /** A request that can no longer be served by this slot (it failed to start). */
  onUnserved(slot: BackendSlot, channel: RequestChannel, msg: WireMessage): void;
  onFailed(slot: BackendSlot, reason: string): void;
  /** `how`: describeExit's words; `exit`: how it ended, for what happens next (restartsAfter). */
  onExited(slot: BackendSlot, how: string, exit: BackendExit): void;
  /** The shared backend is being replaced by a restart another client asked for. */
  onRestarting?(slot: BackendSlot): void;
  /**
   * The backend's heartbeat went silent while it ran nothing of this router's (so it may be
   * hung), or came back after such a silence. Death is reported by onExited, not here.
   */
  onHeartbeat?(slot: BackendSlot, responsive: boolean, silentMs: number): void;
  /** The first cell this router runs on a backend that printed while no client was attached: show it what it missed. */
  onReplay?(slot: BackendSlot, output: DetachedOutput, request: WireMessage): void;
  /** The backend is near a limit (fleet): `text` is for the cell running there now, if any. */
  onWarning?(slot: BackendSlot, text: string): void;
  /** A backend message over the size limit, dropped: its client must hear of it instead. */
  onOversized?(slot: BackendSlot, channel: RequestChannel | 'iopub', msg: WireMessage, bytes: number): void;
}

export interface SlotOptions {
  requirement: RequirementRef;
  directory: BackendDirectory;
  logger: Logger;
  events: SlotEvents;
  maxPending?: number;
  maxMessageBytes?: number;
  heartbeatTimeoutMs?: number;
  /** Backpressure from the client side's iopub queue (see BackendLink). */
  iopubRoom?: () => Promise<void> | undefined;
  /** This slot starts the requirement again after its backend died: it shows as restarting. */
  restart?: boolean;
}
