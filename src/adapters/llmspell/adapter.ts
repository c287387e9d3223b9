import { randomUUID } from 'node:crypto';
import { Frontend } from '../../router/frontend.js';
import { describeError } from '../../shared/errors.js';
import { describeExit } from '../../shared/exit.js';
import type { Logger } from '../../shared/log.js';
import type { WireMessage } from '../../wire/codec.js';
import type { ConnectionInfo } from '../../wire/connection-file.js';
import { stopLlmspell, type StartLlmspellOptions } from './child.js';
import { HeartbeatWatch } from './health.js';
import { History } from './history.js';
import { ExecuteJob, JobFailure, ProbeJob, type Job, type JobContext } from './jobs.js';
import { Llmspell } from './llmspell.js';
import { adapterKernelInfo, interruptNotice, type InterruptPolicy } from './policy.js';
import { isCompleteVerdict } from './lua-probes.js';
import { luaLoadError } from './lua-parser.js';
import { answerShell } from './shell.js';

export interface AdapterOptions {
  /** The connection file clients use: the adapter binds it. */
  connection: ConnectionInfo;
  llmspell: StartLlmspellOptions;
  interrupt: InterruptPolicy;
  /** interrupt = restart: how long a cell may go on after an interrupt before llmspell is restarted. */
  interruptGraceMs: number;
  logger: Logger;
  maxMessageBytes?: number;
  /** Said (stderr) in the first cell that runs, e.g. that the provider has no key. */
  notice?: string;
  /** Automatic restarts of a dying llmspell allowed per minute before the adapter gives up. */
  restartLimit?: number;
  /** The adapter has stopped (shutdown_request, a signal, llmspell unrecoverable): end the process. */
  onStopped(exitCode: number): void;
}

interface Running {
  job: Job;
  abort: AbortController;
}

/**
 * A conformant Jupyter kernel in front of one llmspell: clients see five signed sockets and
 * standard replies; llmspell sees one `inprocess_client` that runs one thing at a time.
 */
export class LlmspellAdapter {
  readonly #frontend: Frontend;
  readonly #history = new History();
  readonly #queue: Job[] = [];
  readonly #restarts: number[] = [];
  #llmspell: Llmspell | undefined;
  #booting: Promise<Llmspell> | undefined;
  readonly #stopBoot = new AbortController();
  #running: Running | undefined;
  #count = 0;
  #notice: string | undefined;
  #globals: string[] = [];
  #stopping = false;
  #interruptTimer: NodeJS.Timeout | undefined;
  readonly #context: JobContext;
  readonly #watch = new HeartbeatWatch({
    idleLink: () => (this.#running === undefined ? this.#llmspell?.link : undefined),
    onSilent: () => {
      this.options.logger.error('llmspell is idle but does not answer its heartbeat (hung or stopped?)');
      this.#notice = 'llmspell stopped answering while idle (hung or stopped?); if this cell never finishes, restart the kernel.\n';
    },
    onAnswering: () => {
      this.options.logger.info('llmspell answers its heartbeat again');
      this.#notice = undefined;
    },
  });
  /** Replies go back on the channel their request came in on. */
  readonly #channels = new WeakMap<WireMessage, 'shell' | 'control'>();

  constructor(private readonly options: AdapterOptions) {
    this.#frontend = new Frontend({
      connection: options.connection,
      logger: options.logger,
      maxMessageBytes: options.maxMessageBytes ?? 1024 * 1024 * 1024,
      onRequest: (channel, msg) => this.#onRequest(channel, msg),
      onSubscribe: () => undefined,
      onDropped: (channel, reason) => options.logger.warn({ channel, reason }, 'message refused'),
    });
    this.#notice = options.notice;
    this.#context = {
      publish: (msgType, content, parent) => this.#frontend.broadcast(msgType, content, parent.header),
      reply: (request, msgType, content) => this.#frontend.reply(this.#channels.get(request) ?? 'shell', request, msgType, content),
    };
  }

  /** Binds the client sockets at once; llmspell starts meanwhile and requests wait for it. */
  async start(): Promise<void> {
    await this.#frontend.bind(randomUUID());
    this.#boot();
    this.#watch.start();
  }

  get llmspellPid(): number | undefined {
    return this.#llmspell?.child.pid;
  }

  /** Waits for llmspell to answer, then lets queued work run. Rejects when it cannot start. */
  ready(): Promise<Llmspell> {
    return this.#booting ?? Promise.reject(new Error('the adapter is not started'));
  }

  /** SIGINT to the adapter, or interrupt_request: llmspell itself never receives SIGINT. */
  interrupt(request?: WireMessage): void {
    const running = this.#running;
    if (request !== undefined) {
      const content = running?.job.kind === 'execute' && this.options.interrupt === 'notice'
        ? { status: 'error', ename: 'InterruptNotSupported', evalue: 'llmspell cannot interrupt a running cell', traceback: [] }
        : { status: 'ok' };
      this.#answer(request, 'interrupt_reply', content);
    }
    if (running?.job.kind !== 'execute') return;
    const job = running.job;
    this.#context.publish('stream', { name: 'stderr', text: interruptNotice(this.options.interrupt, this.options.interruptGraceMs) }, job.request);
    if (this.options.interrupt !== 'restart' || this.#interruptTimer !== undefined) return;
    this.#interruptTimer = setTimeout(() => {
      this.#interruptTimer = undefined;
      if (this.#running?.job !== job) return;
      this.options.logger.info('interrupt grace over: restarting llmspell to stop the cell');
      this.#restartLlmspell(new JobFailure('LlmspellInterrupted', 'the cell was stopped by restarting llmspell, which cannot interrupt a running cell; its variables are lost'));
    }, this.options.interruptGraceMs);
  }

  /** Stops llmspell (SIGTERM, then SIGKILL) and closes the sockets. Idempotent. */
  async stop(exitCode = 0): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    clearTimeout(this.#interruptTimer);
    this.#watch.stop();
    this.#running?.abort.abort(new JobFailure('LlmspellStopped', 'the kernel is shutting down'));
    // A boot in progress gives up at once and stops its llmspell itself.
    this.#stopBoot.abort(new Error('stopping'));
    const llmspell = this.#llmspell ?? (await this.#booting?.catch(() => undefined));
    if (llmspell) {
      llmspell.link.close();
      await stopLlmspell(llmspell.child);
    }
    await this.#frontend.close();
    this.options.onStopped(exitCode);
  }

  #boot(): void {
    this.#llmspell = undefined;
    const booting = Llmspell.start(this.options.llmspell, this.options.logger, this.#stopBoot.signal);
    this.#booting = booting;
    booting.then(
      (llmspell) => {
        if (this.#booting !== booting) return;
        this.#llmspell = llmspell;
        void llmspell.child.exit.then((exit) => this.#onExit(llmspell, describeExit(exit)));
        if (this.#stopping) {
          void this.stop();
          return;
        }
        this.#pump();
      },
      (error: unknown) => {
        if (this.#stopping) return;
        this.options.logger.error({ err: error }, 'llmspell could not start');
        process.stderr.write(`llmspell-fleet adapter: ${describeError(error)}\n`);
        void this.stop(1);
      },
    );
  }

  #onExit(llmspell: Llmspell, how: string): void {
    if (this.#stopping || this.#llmspell !== llmspell) return;
    this.options.logger.warn({ how }, 'llmspell exited');
    this.#restartLlmspell(new JobFailure('LlmspellDied', `llmspell ${how} while running this cell; its variables are lost and a new llmspell is starting`), how);
  }

  /** Fails what runs, aborts what waits, starts a new llmspell (bounded per minute). */
  #restartLlmspell(failure: JobFailure, how?: string): void {
    const old = this.#llmspell;
    this.#llmspell = undefined;
    this.#running?.abort.abort(failure);
    for (const job of this.#queue.splice(0)) this.#skip(job);
    const now = Date.now();
    while (this.#restarts.length > 0 && now - (this.#restarts[0] as number) > 60_000) this.#restarts.shift();
    if (this.#restarts.length >= (this.options.restartLimit ?? 5)) {
      this.options.logger.error('llmspell died too often; stopping the kernel');
      process.stderr.write(`llmspell-fleet adapter: llmspell died ${this.#restarts.length} times in a minute; stopping. See ${this.options.llmspell.logFile}\n`);
      void this.stop(1);
      return;
    }
    this.#restarts.push(now);
    this.#notice = `llmspell restarted${how ? ` (it ${how})` : ''}: variables from earlier cells are gone.\n`;
    this.#frontend.broadcast('status', { execution_state: 'restarting' });
    if (old) {
      old.link.close();
      void stopLlmspell(old.child, 0);
    }
    this.#boot();
  }

  #onRequest(channel: 'shell' | 'control' | 'stdin', msg: WireMessage): void {
    if (channel === 'stdin') return; // llmspell never asks for input
    this.#channels.set(msg, channel);
    const type = msg.msgType;
    if (type === 'interrupt_request') return this.interrupt(msg);
    if (type === 'shutdown_request') {
      this.#answer(msg, 'shutdown_reply', { status: 'ok', restart: msg.content<{ restart?: unknown }>().restart === true });
      void this.stop(0);
      return;
    }
    if (type === 'kernel_info_request') {
      void this.ready().then(
        (llmspell) => this.#answer(msg, 'kernel_info_reply', adapterKernelInfo(llmspell.kernelInfo)),
        () => undefined,
      );
      return;
    }
    if (type === 'execute_request') return this.#enqueue(new ExecuteJob(msg));
    if (type === 'is_complete_request') {
      const code = msg.content<{ code?: unknown }>().code;
      void luaLoadError(typeof code === 'string' ? code : '').then(
        (error) => this.#answer(msg, 'is_complete_reply', isCompleteVerdict(error)),
        (error: unknown) => this.#answer(msg, 'is_complete_reply', { status: 'unknown' }, undefined, error),
      );
      return;
    }
    const probe = answerShell(msg, {
      history: this.#history,
      globals: this.#globals,
      onGlobals: (names) => (this.#globals = names),
    });
    if (probe === undefined) return;
    if ('reply' in probe) {
      const { msgType, content, publish } = probe.reply;
      return this.#answer(msg, msgType, content, publish);
    }
    // Completion and inspection ask llmspell only when it is free; a busy kernel answers from memory.
    if (this.#llmspell !== undefined && this.#running === undefined && this.#queue.length === 0) this.#enqueue(probe.job);
    else this.#answer(msg, ...flatten(probe.job.answer(undefined)));
  }

  #enqueue(job: Job): void {
    this.#queue.push(job);
    this.#pump();
  }

  #pump(): void {
    if (this.#running !== undefined || this.#stopping) return;
    const llmspell = this.#llmspell;
    const job = this.#queue.shift();
    if (job === undefined || llmspell === undefined) {
      if (job) this.#queue.unshift(job);
      return;
    }
    const running: Running = { job, abort: new AbortController() };
    this.#running = running;
    const parent = job.request;
    this.#frontend.broadcast('status', { execution_state: 'busy' }, parent.header);
    void this.#run(running, llmspell).finally(() => {
      this.#running = undefined;
      this.#frontend.broadcast('status', { execution_state: 'idle' }, parent.header);
      this.#pump();
    });
  }

  async #run({ job, abort }: Running, llmspell: Llmspell): Promise<void> {
    const signal = abort.signal;
    if (job.kind === 'probe') return job.run({ link: llmspell.link, signal, context: this.#context });
    // IPython does not count blank cells either.
    if (!job.silent && job.storeHistory && !job.blank) this.#count += 1;
    const notice = job.silent ? undefined : this.#notice;
    if (notice !== undefined) this.#notice = undefined;
    const reply = await job.run({ link: llmspell.link, signal, count: this.#count, history: this.#history, context: this.#context, ...(notice !== undefined ? { notice } : {}) });
    if (reply.status === 'error' && job.stopOnError) {
      for (const queued of this.#queue.splice(0)) this.#skip(queued);
    }
  }

  /** A queued job that will not run: executes are aborted, probes answered from memory. */
  #skip(job: Job): void {
    this.#frontend.broadcast('status', { execution_state: 'busy' }, job.request.header);
    if (job.kind === 'execute') job.abort(this.#context, this.#count);
    else job.reply(this.#context, undefined);
    this.#frontend.broadcast('status', { execution_state: 'idle' }, job.request.header);
  }

  /** A reply the adapter makes at once, framed by busy and idle as every kernel does. */
  #answer(request: WireMessage, msgType: string | undefined, content: object | undefined, publish?: { msgType: string; content: object }, error?: unknown): void {
    if (error !== undefined) this.options.logger.error({ err: error, msgType: request.msgType }, 'could not answer from the adapter');
    this.#frontend.broadcast('status', { execution_state: 'busy' }, request.header);
    if (publish) this.#context.publish(publish.msgType, publish.content, request);
    if (msgType !== undefined) this.#context.reply(request, msgType, content ?? {});
    this.#frontend.broadcast('status', { execution_state: 'idle' }, request.header);
  }
}

function flatten(answer: { msgType: string; content: object }): [string, object] {
  return [answer.msgType, answer.content];
}
