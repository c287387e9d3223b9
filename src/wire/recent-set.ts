/**
 * The last `capacity` strings added, as a ring over a Set: memory stays bounded however long
 * the owner lives. Evicting through `set.values().next()` instead would walk every hole V8
 * leaves for deleted entries, which made each add ~20x slower once the set was full.
 */
export class RecentSet {
  readonly #set = new Set<string>();
  readonly #ring: (string | undefined)[];
  #next = 0;

  constructor(readonly capacity: number) {
    this.#ring = new Array<string | undefined>(Math.max(1, capacity)).fill(undefined);
  }

  has(value: string): boolean {
    return this.#set.has(value);
  }

  /** Adds `value`, forgetting the oldest one when full. */
  add(value: string): void {
    const oldest = this.#ring[this.#next];
    if (oldest !== undefined) this.#set.delete(oldest);
    this.#ring[this.#next] = value;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#set.add(value);
  }
}
