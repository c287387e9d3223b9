/**
 * The adapter's own history (llmspell keeps none a client can ask for): what history_request
 * returns, in IPython's shape: `[session, line, input]`, or `[session, line, [input, output]]`
 * with output. One session per adapter process, numbered 1.
 */
import { globToRegExp, uniqueByInput } from '../../shared/history-search.js';

export interface HistoryEntry {
  line: number;
  input: string;
  output: string | null;
}

export interface HistoryRequest {
  hist_access_type?: string;
  output?: boolean;
  n?: number;
  start?: number;
  stop?: number;
  pattern?: string;
  unique?: boolean;
}

const SESSION = 1;
const MAX_ENTRIES = 10_000;

export class History {
  readonly #entries: HistoryEntry[] = [];

  add(line: number, input: string): void {
    this.#entries.push({ line, input, output: null });
    if (this.#entries.length > MAX_ENTRIES) this.#entries.shift();
  }

  /** The text/plain result of a line, for `output: true` requests. */
  setOutput(line: number, output: string): void {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const entry = this.#entries[i] as HistoryEntry;
      if (entry.line === line) {
        entry.output = output;
        return;
      }
    }
  }

  reply(request: HistoryRequest): Record<string, unknown> {
    return { status: 'ok', history: this.query(request).map((e) => (request.output ? [SESSION, e.line, [e.input, e.output]] : [SESSION, e.line, e.input])) };
  }

  query(request: HistoryRequest): HistoryEntry[] {
    const all = this.#entries;
    switch (request.hist_access_type) {
      case 'tail':
        return request.n !== undefined && request.n >= 0 ? all.slice(Math.max(0, all.length - request.n)) : all.slice();
      case 'range': {
        // IPython's range is [start, stop) over line numbers; stop absent means "to the end".
        const start = request.start ?? 0;
        return all.filter((e) => e.line >= start && (request.stop === undefined || request.stop === null || e.line < request.stop));
      }
      case 'search': {
        const re = globToRegExp(request.pattern ?? '*');
        let found = all.filter((e) => re.test(e.input));
        if (request.unique) found = uniqueByInput(found);
        return request.n !== undefined && request.n > 0 ? found.slice(-request.n) : found;
      }
      default:
        return [];
    }
  }
}
