import type { Logger } from '../shared/log.js';
import type { RejectReason, WireMessage } from '../wire/codec.js';
import type { RequestChannel } from './backend-link.js';
import { Ownership } from './ownership.js';
import type { ResolvedRequest } from './resolver.js';
import { routeClientRequest } from './routes.js';
import type { Requirement as RequirementRef } from '../shared/requirement.js';

/** What the dispatcher asks of the router that owns it; `S` is the router's backend slot. */
export interface DispatchHost<S> {
  /** False once the router is stopping: requests are then dropped. */
  running(): boolean;
  /** The slot serving `requirement`, started if there is none. */
  slotFor(requirement: RequirementRef): S;
  /** The slot serving requests that name no requirement. */
  defaultSlot(): S;
  /** False once `slot` no longer serves its requirement (its backend died or failed to start). */
  isLive(slot: S): boolean;
  resolve(code: string | undefined, metadata: unknown): ResolvedRequest | Promise<ResolvedRequest>;
  /**
   * A fleet magic in an execute_request: true if the router has answered it itself, or a
   * promise when later shell requests must wait for its end (a copy into a backend must land
   * before the next cell runs there, as in "run all").
   */
  magic(channel: RequestChannel, msg: WireMessage, code: string): boolean | Promise<void>;
  /** A history_request about the session's own cells: true if the router has answered it itself. */
  history?(channel: RequestChannel, msg: WireMessage): boolean;
  /** Completion of a fleet magic: true if the router has answered it itself. */
  completeMagic(channel: RequestChannel, msg: WireMessage): boolean;
  /** A usage_request on control: true if the router answers it itself from the fleet's measurement. */
  usage?(channel: RequestChannel, msg: WireMessage): boolean;
  shutdown(channel: RequestChannel, msg: WireMessage, restart: boolean): void;
  interrupt(channel: RequestChannel, msg: WireMessage): void;
  /** Hand `msg` (the request, perhaps with its directive stripped) to `slot`; `original` is what the client sent. */
  submit(channel: RequestChannel, original: WireMessage, slot: S, msg: WireMessage): void;
  /** Answer the request with an error in place of a backend. */
  fail(channel: RequestChannel, msg: WireMessage, reason: string): void;
  drop(channel: string, reason: RejectReason): void;
}

type Target<S> = { slot: S; msg: WireMessage };

/**
 * Decides, for each verified client request, who answers it: the router itself (shutdown,
 * interrupt, fleet magics) or which backend slot. Keeps shell order across an async
 * resolution, and remembers which backend owns each comm and each client's pending input.
 */
export class RequestDispatcher<S> {
  readonly ownership = new Ownership<S>();
  /** Shell requests that arrived while an earlier one awaited an async resolution: kept in order. */
  #shellBacklog: WireMessage[] | undefined;

  constructor(private readonly host: DispatchHost<S>, private readonly logger: Logger) {}

  /** A request from a client, in arrival order per channel. */
  request(channel: RequestChannel, msg: WireMessage): void {
    if (channel !== 'shell') return void this.#dispatch(channel, msg);
    if (this.#shellBacklog) {
      this.#shellBacklog.push(msg);
      return;
    }
    const pending = this.#dispatch(channel, msg);
    if (pending) this.#awaitThenDrain(pending, []);
  }

  /** A message a backend sent to one client: an input_request makes that backend the client's stdin owner. */
  clientBound(slot: S, channel: RequestChannel, msg: WireMessage): void {
    if (channel === 'stdin' && msg.msgType === 'input_request') this.ownership.inputRequested(msg.identities, slot);
  }

  /** An iopub message from a backend: a comm_open makes that backend the comm's owner. */
  iopub(slot: S, msg: WireMessage): void {
    if (msg.msgType === 'comm_open') this.ownership.commOpened(msg.content<{ comm_id?: unknown }>().comm_id, slot);
  }

  /** Later shell requests wait in the backlog until this one is placed. */
  #awaitThenDrain(pending: Promise<void>, backlog: WireMessage[]): void {
    this.#shellBacklog = backlog;
    void pending.finally(() => {
      this.#shellBacklog = undefined;
      while (backlog.length > 0) {
        const next = this.#dispatch('shell', backlog.shift()!);
        if (next) return this.#awaitThenDrain(next, backlog);
      }
    });
  }

  /** Handle one request; returns a promise only when it had to wait for an async resolution. */
  #dispatch(channel: RequestChannel, msg: WireMessage): Promise<void> | undefined {
    try {
      return this.#handle(channel, msg);
    } catch (error) {
      // Content the router had to read was not JSON: drop it like any malformed message.
      this.host.drop(`frontend.${channel}`, 'BAD_JSON');
      this.logger.debug({ err: (error as Error).message }, 'request not routable');
      return undefined;
    }
  }

  #handle(channel: RequestChannel, msg: WireMessage): Promise<void> | undefined {
    const { host } = this;
    if (!host.running()) return;
    const action = routeClientRequest(channel, msg.msgType, () => msg.content());
    if (action.kind === 'shutdown') return void host.shutdown(channel, msg, action.restart);
    if (action.kind === 'interrupt') return void host.interrupt(channel, msg);
    const target = this.#target(channel, msg);
    const submit = (t: Target<S> | undefined) => {
      if (t && host.running()) host.submit(channel, msg, t.slot, t.msg);
    };
    if (target instanceof Promise) return target.then(submit);
    submit(target);
    return undefined;
  }

  /** Which slot gets a request, and the message to send (a stripped directive changes it). */
  #target(channel: RequestChannel, msg: WireMessage): Target<S> | undefined | Promise<Target<S> | undefined> {
    const { host } = this;
    const type = msg.msgType;
    const ownedOrDefault = (owner: S | undefined) => (owner !== undefined && host.isLive(owner) ? owner : host.defaultSlot());
    if (channel === 'stdin') return { slot: ownedOrDefault(this.ownership.stdinOwner(msg.identities)), msg };
    if (type === 'comm_msg' || type === 'comm_close') {
      const owner = this.ownership.commOwner(msg.content<{ comm_id?: unknown }>().comm_id, type === 'comm_close');
      return { slot: ownedOrDefault(owner), msg };
    }
    if (type === 'execute_request' || type === 'comm_open') {
      const content = msg.content<{ code?: unknown; comm_id?: unknown }>();
      const code = typeof content.code === 'string' ? content.code : undefined;
      const magic = type === 'execute_request' && code !== undefined ? host.magic(channel, msg, code) : false;
      if (magic instanceof Promise) return magic.then(() => undefined);
      if (magic) return undefined;
      const place = (resolved: ResolvedRequest): Target<S> | undefined => {
        if (resolved.error) {
          host.fail(channel, msg, resolved.error);
          return undefined;
        }
        const slot = host.slotFor(resolved.requirement);
        if (type === 'comm_open') this.ownership.commOpened(content.comm_id, slot);
        const out = resolved.code !== undefined && resolved.code !== code ? msg.withContent({ ...content, code: resolved.code }) : msg;
        return { slot, msg: out };
      };
      const resolved = host.resolve(code, msg.metadata());
      return resolved instanceof Promise ? resolved.then(place) : place(resolved);
    }
    if (type === 'complete_request' && host.completeMagic(channel, msg)) return undefined;
    if (type === 'history_request' && host.history?.(channel, msg)) return undefined;
    if (type === 'usage_request' && channel === 'control' && host.usage?.(channel, msg)) return undefined;
    return { slot: host.defaultSlot(), msg };
  }
}
