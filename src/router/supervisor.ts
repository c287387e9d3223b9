import type { Logger } from '../shared/log.js';
import type { WireMessage } from '../wire/codec.js';
import type { RequestChannel } from './backend-link.js';
import { diedBeforeReply, exitNotice, heartbeatNotice, type AfterExit, type BackendRef } from './notices.js';
import { statusContent, streamContent } from './replies.js';
import { DEFAULT_RESTART_POLICY, decideRestart, type RestartPolicy } from './restart-policy.js';
import type { Requirement as RequirementRef } from '../shared/requirement.js';

/** What the supervisor needs of a backend slot (BackendSlot satisfies it). */
export interface SupervisedSlot {
  readonly key: string;
  readonly requirement: RequirementRef;
  readonly lease: { readonly kernelId: string; readonly pid: number } | undefined;
  /** Requests the backend took and will not answer now. */
  takeInFlight(): { channel: RequestChannel; msg: WireMessage }[];
  close(options: { stop: boolean }): Promise<void>;
}

/** The router's own voice towards clients (RouterReplies satisfies it). */
export interface SupervisorReplies {
  failed(channel: RequestChannel, msg: WireMessage, reason: string): void;
  broadcast(msgType: string, content: object, parentHeader?: object): void;
}

export interface SupervisorOptions<S extends SupervisedSlot> {
  replies: SupervisorReplies;
  logger: Logger;
  policy?: RestartPolicy;
  /** Start `slot`'s requirement again (the router skips it when stopping, or when a new slot already serves it). */
  restart(slot: S): void;
  /** Clock and timer, injectable for tests. Defaults: Date.now and an unref'd setTimeout. */
  now?: () => number;
  schedule?: (run: () => void, delayMs: number) => void;
}

/**
 * What happens when a backend dies or stops answering its heartbeat: clients are told (and
 * requests it had taken get error replies instead of hanging), and a dead backend is started
 * again with backoff, up to the policy's limit per window (restart-policy.ts decides).
 */
export class RestartSupervisor<S extends SupervisedSlot> {
  /** When each requirement's backend died lately: restart backoff and limit. */
  readonly #exits = new Map<string, number[]>();

  constructor(private readonly options: SupervisorOptions<S>) {}

  /**
   * `slot`'s backend exited (`how`: describeExit's words); the router has already let go of the
   * slot. True when a restart is scheduled. `restart: false`: the fleet ended it on purpose
   * (culled); it is not started again until the next request. `lastOutput`: a crashed
   * backend's last lines (crashOutput), told with its end.
   */
  exited(slot: S, how: string, options: { restart?: boolean; lastOutput?: string | undefined } = {}): boolean {
    const { replies } = this.options;
    const backend = refOf(slot);
    this.options.logger.error({ backend: slot.lease?.kernelId, reason: how }, 'backend exited');
    const policy = this.options.policy ?? DEFAULT_RESTART_POLICY;
    // An end on purpose is no death: it neither restarts nor counts towards the restart limit.
    const decision = options.restart === false ? undefined : decideRestart(this.#exits.get(slot.key) ?? [], (this.options.now ?? Date.now)(), policy);
    if (decision !== undefined) this.#exits.set(slot.key, decision.history);
    const after: AfterExit =
      decision === undefined ? { kind: 'on-demand' }
      : policy.limit === 0 ? { kind: 'restarts-off' }
      : decision.restart ? { kind: 'restarting' }
      : { kind: 'too-many', deaths: decision.deaths };
    replies.broadcast('stream', streamContent('stderr', exitNotice(backend, how, after, options.lastOutput)));
    // A request the dead backend had taken gets an error reply instead of hanging its client.
    for (const { channel, msg } of slot.takeInFlight()) replies.failed(channel, msg, diedBeforeReply(backend, how, options.lastOutput));
    void slot.close({ stop: false });
    // Started again with backoff so the next request finds it warm; past the limit, the next request starts it.
    if (decision === undefined || !decision.restart) return false;
    replies.broadcast('status', statusContent('restarting'));
    (this.options.schedule ?? scheduleUnref)(() => this.options.restart(slot), decision.delayMs);
    return true;
  }

  /** The heartbeat of a backend running none of this router's cells went silent, or came back. */
  heartbeat(slot: S, responsive: boolean, silentMs: number): void {
    if (responsive) this.options.logger.warn({ backend: slot.lease?.kernelId }, 'backend heartbeat back');
    else this.options.logger.error({ backend: slot.lease?.kernelId, silentMs }, 'backend heartbeat silent');
    this.options.replies.broadcast('stream', streamContent('stderr', heartbeatNotice(refOf(slot), responsive, silentMs)));
  }
}

function refOf(slot: SupervisedSlot): BackendRef {
  return { key: slot.key, pid: slot.lease?.pid };
}

function scheduleUnref(run: () => void, delayMs: number): void {
  setTimeout(run, delayMs).unref();
}
