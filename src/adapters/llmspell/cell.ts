import { isNullResult, isScriptErrorText, parseScriptError, sameData, type LlmspellEvent, type ScriptError } from './dialect.js';

/** An iopub message the adapter publishes for the cell (parent and signature are added by the caller). */
export interface CellOutput {
  msgType: string;
  content: Record<string, unknown>;
}

export type ExecuteReplyContent =
  | { status: 'ok'; execution_count: number; user_expressions: Record<string, unknown>; payload: unknown[] }
  | { status: 'error'; execution_count: number; ename: string; evalue: string; traceback: string[]; user_expressions: Record<string, unknown> };

export interface CellOptions {
  /** The count the adapter gives this cell (llmspell's own count is replaced everywhere). */
  executionCount: number;
  lineOffset?: number;
}

export interface Accepted {
  /** Publish these now, in order. */
  outputs: CellOutput[];
  /** llmspell went idle: call finish(). */
  done: boolean;
}

/**
 * Turns what llmspell publishes for one execution (between its `busy` and `idle`) into what a
 * Jupyter client expects: the spurious `null` result dropped, the display_data that repeats the
 * result dropped, stderr error text made an `error`, the result last (llmspell sometimes sends it
 * before the cell's prints) and an execute_reply at the end. One instance per execution; pure.
 */
export class CellTranslator {
  #busy = false;
  #done = false;
  #heldDisplay: CellOutput | undefined;
  #result: CellOutput | undefined;
  #error: ScriptError | undefined;

  constructor(private readonly options: CellOptions) {}

  accept(event: LlmspellEvent): Accepted {
    if (this.#done) return { outputs: [], done: true };
    if (event.msgType === 'status') return this.#status(event);
    // Before our busy only an earlier execution's stragglers can arrive; they are not this cell's.
    if (!this.#busy) return { outputs: [], done: false };
    const outputs: CellOutput[] = [];
    // A held display goes out before whatever came after it; a result decides about it below.
    this.#release(outputs, event.msgType === 'execute_result');
    switch (event.msgType) {
      case 'execute_input':
        break; // the adapter publishes its own, with its own count
      case 'execute_result':
        if (this.#heldDisplay !== undefined && sameData(this.#heldDisplay.content, event.content)) this.#heldDisplay = undefined;
        if (!isNullResult(event.content)) {
          this.#result = { msgType: 'execute_result', content: { ...event.content, execution_count: this.options.executionCount } };
        }
        break;
      case 'display_data':
        this.#release(outputs);
        // Held until the next message: llmspell sends `return x` as display_data, then the same as execute_result.
        this.#heldDisplay = { msgType: 'display_data', content: event.content };
        return { outputs, done: false };
      case 'stream':
        if (event.content.name === 'stderr' && typeof event.content.text === 'string' && isScriptErrorText(event.content.text)) {
          this.#error ??= parseScriptError(event.content.text, { lineOffset: this.options.lineOffset ?? 0 });
          break;
        }
        outputs.push({ msgType: 'stream', content: event.content });
        break;
      default:
        outputs.push({ msgType: event.msgType, content: event.content });
    }
    return { outputs, done: false };
  }

  /** What is left to publish, then the reply. Call once llmspell is idle, or when it died. */
  finish(): { outputs: CellOutput[]; reply: ExecuteReplyContent } {
    this.#done = true;
    const outputs: CellOutput[] = [];
    this.#release(outputs);
    const count = this.options.executionCount;
    if (this.#error !== undefined) {
      const { ename, evalue, traceback } = this.#error;
      outputs.push({ msgType: 'error', content: { ename, evalue, traceback } });
      return { outputs, reply: { status: 'error', execution_count: count, ename, evalue, traceback, user_expressions: {} } };
    }
    if (this.#result !== undefined) outputs.push(this.#result);
    return { outputs, reply: { status: 'ok', execution_count: count, user_expressions: {}, payload: [] } };
  }

  /** The cell could not finish (llmspell died or was restarted): its error, in place of llmspell's. */
  fail(ename: string, evalue: string): { outputs: CellOutput[]; reply: ExecuteReplyContent } {
    this.#error = { ename, evalue, traceback: [`${ename}: ${evalue}`] };
    this.#result = undefined;
    return this.finish();
  }

  #status(event: LlmspellEvent): Accepted {
    const state = event.content.execution_state;
    if (state === 'busy') this.#busy = true;
    if (state === 'idle' && this.#busy) return { outputs: [], done: true };
    return { outputs: [], done: false };
  }

  #release(outputs: CellOutput[], keepHeld = false): void {
    if (keepHeld || this.#heldDisplay === undefined) return;
    outputs.push(this.#heldDisplay);
    this.#heldDisplay = undefined;
  }
}
