/**
 * Which backend owns what a client may address again later: a comm (by comm_id) lives in the
 * backend that opened it, and an input_reply belongs to the backend that asked that client for
 * input. Pure bookkeeping over any slot type; whether an owner is still alive is the caller's
 * question.
 */
export class Ownership<S> {
  /** comm_id -> the slot whose backend holds that comm. */
  readonly #comms = new Map<string, S>();
  /** client routing ids -> the slot that last asked that client for input. */
  readonly #stdin = new Map<string, S>();

  /** A comm_open, from a client (resolved to `slot`) or from `slot`'s backend on iopub. */
  commOpened(commId: unknown, slot: S): void {
    if (typeof commId === 'string') this.#comms.set(commId, slot);
  }

  /** The slot holding the comm a comm_msg or comm_close names; a comm_close also forgets it. */
  commOwner(commId: unknown, closing: boolean): S | undefined {
    const id = String(commId);
    const owner = this.#comms.get(id);
    if (closing) this.#comms.delete(id);
    return owner;
  }

  /** `slot`'s backend sent an input_request to the client these routing ids name. */
  inputRequested(identities: readonly Buffer[], slot: S): void {
    this.#stdin.set(identityKey(identities), slot);
  }

  /** The slot that last asked this client for input. */
  stdinOwner(identities: readonly Buffer[]): S | undefined {
    return this.#stdin.get(identityKey(identities));
  }
}

function identityKey(identities: readonly Buffer[]): string {
  return identities.map((b) => b.toString('hex')).join('.');
}
