/**
 * The last `capacity` strings added, as a ring over a Set: memory stays bounded however long
 * the owner lives. Evicting through `set.values().next()` instead would walk every hole V8
 * leaves for deleted entries, which made each add ~20x slower once the set was full. The ring
 * grows to `capacity` as strings come instead of being allocated whole: every router holds
 * several of these (65536 slots for each replay guard), most of which an idle router never fills.
 */
export class RecentSet {
  readonly #set = new Set<string>();
  readonly #ring: string[] = [];
  readonly #capacity: number;
  #next = 0;

  constructor(readonly capacity: number) {
    this.#capacity = Math.max(1, capacity);
  }

  has(value: string): boolean {
    return this.#set.has(value);
  }

  /** Adds `value`, forgetting the oldest one when full. */
  add(value: string): void {
    if (this.#ring.length < this.#capacity) {
      this.#ring.push(value);
    } else {
      this.#set.delete(this.#ring[this.#next]!);
      this.#ring[this.#next] = value;
      this.#next = (this.#next + 1) % this.#capacity;
    }
    this.#set.add(value);
  }
}
