/**
 * Newline-delimited JSON framing for the manager socket, both ends. A line longer than the
 * limit means a confused or hostile peer: the reader says so and the connection is dropped,
 * instead of buffering without bound.
 */

const MAX_LINE_BYTES = 4 * 1024 * 1024;

export class LineReader {
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxBytes: number = MAX_LINE_BYTES,
  ) {}

  /** Feeds a chunk; returns false when a line exceeded the limit (the rest is then discarded). */
  push(chunk: Buffer): boolean {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      if (this.#pendingBytes + piece.length > this.maxBytes) return this.#overflow();
      const line = this.#pending.length === 0 ? piece : Buffer.concat([...this.#pending, piece]);
      this.#pending = [];
      this.#pendingBytes = 0;
      const text = line.toString('utf8').trim();
      if (text.length > 0) this.onLine(text);
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (this.#pendingBytes + rest.length > this.maxBytes) return this.#overflow();
    if (rest.length > 0) {
      this.#pending.push(Buffer.from(rest));
      this.#pendingBytes += rest.length;
    }
    return true;
  }

  #overflow(): false {
    this.#pending = [];
    this.#pendingBytes = 0;
    return false;
  }
}

export function encodeLine(value: unknown): string {
  return `${JSON.stringify(value)}\n`;
}
