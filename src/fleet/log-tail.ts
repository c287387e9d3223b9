/**
 * The end of a backend's log, for `llmspell-fleet logs`, the manager's `logs` op (HTTP API)
 * and the excerpt in a failed start's error (spawn.ts).
 */
import { open } from 'node:fs/promises';

const CHUNK = 64 * 1024;

export interface LastLinesOptions {
  /** The text was read from the middle of a line (an offset into the log): its first line is dropped. */
  firstLineIsPartial?: boolean;
  /** For an error's excerpt: blank lines do not count, a `\r` before a newline goes, and no newline ends it. */
  asMessage?: boolean;
}

/**
 * Pure: the last `n` lines of `text` (a trailing newline does not count as an empty last line),
 * each as written and ending in a newline; with `asMessage`, the last `n` non-blank ones.
 */
export function lastLines(text: string, n: number, options: LastLinesOptions = {}): string {
  if (n <= 0 || text.length === 0) return '';
  const lines = options.asMessage === true ? text.split(/\r?\n/) : (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
  if (options.firstLineIsPartial === true) lines.shift();
  if (options.asMessage !== true) return lines.length === 0 ? '' : `${lines.slice(-n).join('\n')}\n`;
  return lines
    .filter((line) => line.trim().length > 0)
    .slice(-n)
    .join('\n');
}

/** The last `n` lines of a file, reading backwards in chunks so a big log costs little. */
export async function readTail(file: string, n: number): Promise<{ text: string; size: number }> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (n === 0) return { text: '', size };
    const chunks: Buffer[] = [];
    let pos = size;
    let newlines = 0;
    // n lines need n+1 newlines in view (the one before the first line), plus a trailing one
    while (pos > 0 && newlines <= n + 1) {
      const len = Math.min(CHUNK, pos);
      pos -= len;
      const buf = Buffer.alloc(len);
      await handle.read(buf, 0, len, pos);
      chunks.unshift(buf);
      for (const b of buf) if (b === 0x0a) newlines++;
    }
    return { text: lastLines(Buffer.concat(chunks).toString('utf8'), n), size };
  } finally {
    await handle.close();
  }
}
