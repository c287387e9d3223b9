/**
 * llmspell's wire dialect, read (see shared/notes/llmspell-kernel.md and the recorded traces):
 * iopub is one unsigned JSON frame `{header, parent_header, metadata, content}` with no topic,
 * no delimiter and a null parent; errors are stderr text, not `error` messages. Pure functions:
 * no sockets, no clock.
 */

/** One message llmspell published on iopub, as far as the adapter cares. */
export interface LlmspellEvent {
  msgType: string;
  content: Record<string, unknown>;
}

const DELIMITER = '<IDS|MSG>';

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/**
 * Reads one iopub message from llmspell. The single-frame form is what 0.14.x sends; the standard
 * multipart form (topic, `<IDS|MSG>`, signature, four JSON frames) is read too, so a fixed llmspell
 * keeps working without an adapter release. Anything else is undefined (the caller logs it).
 */
export function parseIopub(frames: readonly Buffer[]): LlmspellEvent | undefined {
  let header: unknown;
  let content: unknown;
  try {
    const delimiter = frames.findIndex((f) => f.length === DELIMITER.length && f.toString('latin1') === DELIMITER);
    if (delimiter >= 0) {
      const h = frames[delimiter + 2];
      const c = frames[delimiter + 5];
      if (h === undefined || c === undefined) return undefined;
      header = JSON.parse(h.toString('utf8'));
      content = JSON.parse(c.toString('utf8'));
    } else {
      if (frames.length !== 1 || frames[0] === undefined) return undefined;
      const whole = asObject(JSON.parse(frames[0].toString('utf8')));
      header = whole?.header;
      content = whole?.content;
    }
  } catch {
    return undefined;
  }
  const h = asObject(header);
  const c = asObject(content);
  if (h === undefined || c === undefined || typeof h.msg_type !== 'string') return undefined;
  return { msgType: h.msg_type, content: c };
}

/** The chunk name llmspell gives every cell; users never wrote it, so it is renamed in errors. */
const CHUNK = /\[string "[^"\n]*engine\.rs:\d+:\d+"\]/g;
const CELL_CHUNK = 'cell';
const PREFIX = 'Error: Script execution failed: ';
const ENGINE = /^(?:Component error: )?lua engine execution error: (syntax error|runtime error): ([\s\S]*)$/;

/** A Jupyter `error` made from llmspell's stderr text. */
export interface ScriptError {
  ename: string;
  evalue: string;
  traceback: string[];
}

export interface ScriptErrorOptions {
  /** Lines the adapter put before the user's code (0 when it sends the cell as written). */
  lineOffset?: number;
}

/** True for the stderr text llmspell writes instead of an `error` message. */
export function isScriptErrorText(text: string): boolean {
  return text.startsWith(PREFIX);
}

/** `cell:3:` with the cell's own line number, for every mention of llmspell's chunk. */
function renameChunk(text: string, lineOffset: number): string {
  return text.replace(new RegExp(`${CHUNK.source}:(\\d+):`, 'g'), (_whole, line: string) => `${CELL_CHUNK}:${Math.max(1, Number(line) - lineOffset)}:`).replace(CHUNK, CELL_CHUNK);
}

/**
 * `Error: Script execution failed: Component error: lua engine execution error: runtime error:
 * [string "...engine.rs:267:65"]:1: boom\nstack traceback:\n\t...` becomes ename LuaRuntimeError,
 * evalue `boom (line 1)`-style text naming the cell's line, and the Lua traceback as lines.
 * Undefined when the text is not one of llmspell's script errors.
 */
export function parseScriptError(text: string, options: ScriptErrorOptions = {}): ScriptError | undefined {
  if (!isScriptErrorText(text)) return undefined;
  const lineOffset = options.lineOffset ?? 0;
  const body = text.slice(PREFIX.length).replace(/\n+$/, '');
  const engine = ENGINE.exec(body);
  if (engine === null) {
    // Not a Lua error (a provider or bridge failure): keep llmspell's words.
    const evalue = body.replace(/^Component error: /, '');
    return { ename: 'LlmspellError', evalue, traceback: [`LlmspellError: ${evalue}`] };
  }
  const kind = engine[1] === 'syntax error' ? 'LuaSyntaxError' : 'LuaRuntimeError';
  const renamed = renameChunk(engine[2] as string, lineOffset);
  const [first = '', ...rest] = renamed.split('\n');
  const located = /^cell:(\d+): ([\s\S]*)$/.exec(first);
  const evalue = located ? `line ${located[1]}: ${located[2]}` : first;
  return { ename: kind, evalue, traceback: [`${kind}: ${evalue}`, ...rest] };
}

/** The `null` llmspell shows for every cell that returns nothing. */
export function isNullResult(content: Record<string, unknown>): boolean {
  const data = asObject(content.data);
  if (data === undefined) return false;
  const keys = Object.keys(data);
  return keys.length === 1 && keys[0] === 'text/plain' && data['text/plain'] === 'null';
}

/** Same mime bundle, key order aside: llmspell sends `return x` as display_data and execute_result. */
export function sameData(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const da = asObject(a.data) ?? {};
  const db = asObject(b.data) ?? {};
  const ka = Object.keys(da);
  if (ka.length !== Object.keys(db).length) return false;
  return ka.every((k) => JSON.stringify(da[k]) === JSON.stringify(db[k]));
}
