import { FleetError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { startLlmspell, stopLlmspell, type StartLlmspellOptions } from './child.js';
import type { SpawnedChild } from '../../fleet/spawn.js';
import { LlmspellLink } from './link.js';

/** A chunk with no output and no effect: its busy/idle prove that iopub reaches the adapter. */
const WARM_UP = 'local _ = nil';

/** One running llmspell the adapter can use: its process, its link, and what it said about itself. */
export class Llmspell {
  private constructor(
    readonly child: SpawnedChild,
    readonly link: LlmspellLink,
    readonly kernelInfo: Record<string, unknown>,
  ) {}

  /**
   * Starts llmspell and waits until it answers kernel_info on shell and its iopub reaches us
   * (a SUB socket misses what is published before its subscription arrives, so one harmless
   * chunk is run, and run again, until its busy and idle come back). Rejects with the reason
   * when llmspell exits or does not answer within the startup timeout; nothing is left running.
   */
  static async start(options: StartLlmspellOptions, logger: Logger, signal: AbortSignal): Promise<Llmspell> {
    const deadline = Date.now() + options.startupTimeoutMs;
    const { child, info } = await startLlmspell({ ...options, signal });
    const link = new LlmspellLink(info, logger);
    const check = (what: string): void => {
      signal.throwIfAborted();
      if (!child.alive) throw new FleetError('BACKEND_EXITED', `llmspell exited before it ${what}; see ${options.logFile}`, { logFile: options.logFile });
      if (Date.now() > deadline) {
        throw new FleetError('READY_TIMEOUT', `llmspell did not ${what} within ${Math.round(options.startupTimeoutMs / 1000)} s; see ${options.logFile}`, { logFile: options.logFile });
      }
    };
    try {
      let kernelInfo: Record<string, unknown> | undefined;
      while (kernelInfo === undefined) {
        check('answered kernel_info');
        kernelInfo = await link.kernelInfo(signal.aborted ? 0 : 1000);
      }
      for (let wait = 500; ; wait = Math.min(wait * 2, 4000)) {
        check('published on iopub');
        let busy = false;
        const sink = (event: { msgType: string; content: Record<string, unknown> }): boolean => {
          if (event.msgType !== 'status') return false;
          if (event.content.execution_state === 'busy') busy = true;
          return busy && event.content.execution_state === 'idle';
        };
        const exited = new AbortController();
        void child.exit.then(() => exited.abort(new Error('exited')));
        try {
          await link.execute(WARM_UP, sink, AbortSignal.any([AbortSignal.timeout(wait), exited.signal, signal]));
          break;
        } catch {
          logger.debug({ wait }, 'llmspell iopub not seen yet; trying again');
        }
      }
      logger.info({ pid: child.pid, implementation_version: kernelInfo.implementation_version }, 'llmspell ready');
      return new Llmspell(child, link, kernelInfo);
    } catch (error) {
      link.close();
      await stopLlmspell(child, 0);
      throw error;
    }
  }
}
