import type { WireMessage } from '../../wire/codec.js';
import { CellTranslator, type CellOutput, type ExecuteReplyContent } from './cell.js';
import type { LlmspellEvent } from './dialect.js';
import type { History } from './history.js';
import type { LlmspellLink } from './link.js';

/** What a job needs from the adapter to talk to clients; the adapter owns sockets and counts. */
export interface JobContext {
  publish(msgType: string, content: object, parent: WireMessage): void;
  reply(request: WireMessage, msgType: string, content: object): void;
}

/** Why a job could not finish on llmspell: becomes the cell's error. */
export class JobFailure extends Error {
  constructor(
    readonly ename: string,
    readonly evalue: string,
  ) {
    super(evalue);
  }
}

interface ExecuteContent {
  code?: unknown;
  silent?: unknown;
  store_history?: unknown;
  stop_on_error?: unknown;
}

/** One execute_request, as the adapter runs it: counts, execute_input, translation, reply. */
export class ExecuteJob {
  readonly kind = 'execute';
  readonly code: string;
  readonly silent: boolean;
  readonly storeHistory: boolean;
  readonly stopOnError: boolean;
  /** Blank code: llmspell would publish nothing at all for it (not even busy/idle), so it is not sent. */
  readonly blank: boolean;

  constructor(readonly request: WireMessage) {
    const c = request.content<ExecuteContent>();
    this.code = typeof c.code === 'string' ? c.code : '';
    this.silent = c.silent === true;
    this.storeHistory = this.silent ? false : c.store_history !== false;
    this.stopOnError = c.stop_on_error !== false;
    this.blank = this.code.trim() === '';
  }

  /**
   * Runs on llmspell and answers the client. `count` is the session's count after this cell took
   * its number; `notice` is stderr text the user must see before the cell's own output.
   */
  async run(options: {
    link: LlmspellLink;
    signal: AbortSignal;
    count: number;
    history: History;
    context: JobContext;
    notice?: string;
  }): Promise<ExecuteReplyContent> {
    const { link, signal, count, history, context } = options;
    const publish = (outputs: CellOutput[]): void => {
      if (!this.silent) for (const o of outputs) context.publish(o.msgType, o.content, this.request);
    };
    if (!this.silent) context.publish('execute_input', { code: this.code, execution_count: count }, this.request);
    if (options.notice !== undefined) publish([{ msgType: 'stream', content: { name: 'stderr', text: options.notice } }]);
    const cell = new CellTranslator({ executionCount: count });
    let result: ReturnType<CellTranslator['finish']>;
    // A blank cell is answered as one that printed nothing: no llmspell round trip, no history line.
    if (this.blank) result = cell.finish();
    else try {
      await link.execute(
        this.code,
        (event: LlmspellEvent) => {
          const accepted = cell.accept(event);
          publish(accepted.outputs);
          return accepted.done;
        },
        signal,
      );
      result = cell.finish();
    } catch (error) {
      const failure = error instanceof JobFailure ? error : new JobFailure('LlmspellError', `the cell could not run: ${String(error)}`);
      result = cell.fail(failure.ename, failure.evalue);
    }
    publish(result.outputs);
    if (this.storeHistory && !this.blank) {
      history.add(count, this.code);
      const shown = result.outputs.find((o) => o.msgType === 'execute_result')?.content.data as Record<string, unknown> | undefined;
      if (typeof shown?.['text/plain'] === 'string') history.setOutput(count, shown['text/plain']);
    }
    context.reply(this.request, 'execute_reply', result.reply);
    return result.reply;
  }

  /** Answered without running: an earlier cell failed (stop_on_error) or llmspell restarted. */
  abort(context: JobContext, count: number): void {
    context.reply(this.request, 'execute_reply', { status: 'aborted', execution_count: count, user_expressions: {}, payload: [] });
  }
}

/**
 * A side-effect-free Lua chunk whose printed stdout answers a complete or inspect request.
 * Nothing it produces reaches a client.
 */
export class ProbeJob {
  readonly kind = 'probe';
  constructor(
    readonly request: WireMessage,
    readonly code: string,
    readonly answer: (printed: string | undefined) => { msgType: string; content: object },
  ) {}

  async run(options: { link: LlmspellLink; signal: AbortSignal; context: JobContext }): Promise<void> {
    let printed = '';
    let failed = false;
    let busy = false;
    try {
      if (this.code !== '') {
        await options.link.execute(
          this.code,
          (event) => {
            if (event.msgType === 'status') {
              if (event.content.execution_state === 'busy') busy = true;
              return busy && event.content.execution_state === 'idle';
            }
            if (busy && event.msgType === 'stream' && typeof event.content.text === 'string') {
              if (event.content.name === 'stdout') printed += event.content.text;
              else failed = true;
            }
            return false;
          },
          options.signal,
        );
      }
    } catch {
      failed = true;
    }
    this.reply(options.context, failed ? undefined : printed);
  }

  /** Answered from what the adapter knows without asking llmspell (it is busy or restarting). */
  reply(context: JobContext, printed: string | undefined): void {
    const { msgType, content } = this.answer(printed);
    context.reply(this.request, msgType, content);
  }
}

export type Job = ExecuteJob | ProbeJob;
