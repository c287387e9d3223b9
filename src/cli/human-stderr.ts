/**
 * What a router says on its stderr, which lands in the user's terminal (jupyter console prints
 * kernel stderr) or in the server log: one short human line per distinct problem, naming the
 * log file that holds the details. The JSON log lines themselves stay in that file. A problem
 * is keyed by what happened and to which backend or channel, not by request, so a backend that
 * cannot start is said once however many requests (is_complete while typing) ask for it.
 */

const PREFIX = 'llmspell-fleet: ';
/** A human line stays a line: long reasons are cut (the log file has them whole). */
const MAX_TEXT = 300;

/** The fields of a pino JSON line we read. */
export interface LogRecord {
  msg?: unknown;
  requirement?: unknown;
  backend?: unknown;
  channel?: unknown;
  queue?: unknown;
  reason?: unknown;
  err?: unknown;
}

/** Pure: what makes two log records the same problem. */
export function problemKey(record: LogRecord): string {
  const about = record.requirement ?? record.backend ?? record.queue ?? record.channel ?? '';
  return `${text(record.msg)}|${text(about)}`;
}

/** Pure: the human line for a record, ending in the log file's path and a newline. */
export function humanLine(record: LogRecord, logFile: string): string {
  const msg = text(record.msg) || 'problem';
  const why = gist(detail(record.reason ?? record.err));
  let said: string;
  if (msg === 'backend unavailable' && record.requirement !== undefined) said = `cannot start ${text(record.requirement)} backend${why ? `: ${why}` : ''}`;
  else if (msg === 'backend exited' && record.backend !== undefined) said = `backend ${text(record.backend)} ${why || 'exited'}`;
  else said = why ? `${msg}: ${why}` : msg;
  if (said.length > MAX_TEXT) said = `${said.slice(0, MAX_TEXT - 1)}…`;
  return `${PREFIX}${said} (details: ${logFile})\n`;
}

/**
 * A pino destination (it gets the JSON lines of warnings and errors) that writes each distinct
 * problem's human line once. A line that is not JSON is a problem of its own, said once.
 */
export class HumanProblemLines {
  readonly #seen = new Set<string>();

  constructor(private readonly options: { logFile: string; write: (line: string) => void; maxProblems?: number }) {}

  write(chunk: string): void {
    for (const line of chunk.split('\n')) {
      if (line.trim() === '') continue;
      let record: LogRecord;
      try {
        record = JSON.parse(line) as LogRecord;
      } catch {
        record = { msg: 'unreadable log line' };
      }
      const key = problemKey(record);
      // Bounded: a router that meets endless distinct problems still stops somewhere.
      if (this.#seen.has(key) || this.#seen.size >= (this.options.maxProblems ?? 1000)) continue;
      this.#seen.add(key);
      this.options.write(humanLine(record, this.options.logFile));
    }
  }
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value);
}

/** An error as pino serialises it ({type, message, stack}), a string, or anything else. */
function detail(value: unknown): string {
  if (value !== null && typeof value === 'object' && typeof (value as { message?: unknown }).message === 'string') return (value as { message: string }).message;
  return text(value);
}

/**
 * Pure: one line that says why. A failure to start reads "… exited with code 1 before it
 * answered kernel_info; its last output:" and then the backend's last lines, whose last plain
 * line (not a JSON log line, not our header, not "see LOG") usually names the cause: that one is kept. Long
 * parenthesised lists (a whole PATH) are left to the log file.
 */
export function gist(s: string): string {
  const lines = s.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const first = lines[0] ?? '';
  const cause = lines.slice(1).reverse().find((l) => !l.startsWith('{') && !l.startsWith('---') && !/^see \S+$/.test(l));
  const said = cause === undefined ? first.replace(/[;:]\s*its last output:?$/, '') : cause.replace(/^llmspell-fleet[\w ]*:\s*/, '');
  return said.replace(/\s*\([^()]{60,}\)/g, '');
}
