/**
 * At most one start per requirement: everyone who asks while a backend for that requirement
 * is being started (or restarted) waits for the same promise instead of starting another.
 */
export class InflightStarts<T> {
  readonly #pending = new Map<string, Promise<T>>();

  get size(): number {
    return this.#pending.size;
  }

  /** The start already under way for `key`, or a new one from `start`. */
  join(key: string, start: () => Promise<T>): Promise<T> {
    return this.#pending.get(key) ?? this.track(key, start());
  }

  /** Makes `pending` the start for `key` (a restart's replacement), until it settles. */
  track(key: string, pending: Promise<T>): Promise<T> {
    this.#pending.set(key, pending);
    const forget = () => {
      if (this.#pending.get(key) === pending) this.#pending.delete(key);
    };
    pending.then(forget, forget);
    return pending;
  }
}
