/**
 * One kernel stub's connection to the router host: its first line is checked and admitted (or
 * answered with `fallback`), then one router session runs for it in this process with the
 * stub's environment, working directory and pid, until the session ends ({"exit":code}) or the
 * stub goes away (EOF: the kernel process was killed), which stops the session as a killed
 * standalone router would end: its backends are released.
 */
import { realpath } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { LineReader } from '../../fleet/manager/lines.js';
import type { Logger } from '../../shared/log.js';
import { restoreExtraCaCerts } from '../../shared/extra-ca-certs.js';
import { startManagerIfRouter } from '../early-manager.js';
import { startRouterSession, type RouterSession } from '../router-session.js';
import { applySignal } from '../router-signals.js';
import { admit, type Install } from './admission.js';
import { frameHostMessage, MAX_STUB_LINE_BYTES, parseHello, parseStubLine, type HostMessage, type StubHello, type StubSignal } from './protocol.js';
import { parseRouterArgs } from './router-args.js';

export interface StubConnectionOptions {
  socket: Socket;
  /** The host's own node and entry script (real paths). */
  install: Install;
  logger: Logger;
  /** Called once, when nothing of this connection runs any more. */
  onClosed: () => void;
  /** Called when the stub's first line is read (a probe that only connects is no stub). */
  onHello?: () => void;
  /** Called when a router session starts for this stub (not for one sent back or refused). */
  onSession?: () => void;
}

export class StubConnection {
  readonly #socket: Socket;
  readonly #log: Logger;
  readonly #reader: LineReader;
  #hello: StubHello | undefined;
  #session: RouterSession | undefined;
  /** Signals that came while the first line was being admitted. */
  #pending: StubSignal[] = [];
  #gone = false;
  #done = false;

  constructor(private readonly options: StubConnectionOptions) {
    this.#socket = options.socket;
    this.#log = options.logger;
    this.#reader = new LineReader((line) => this.#line(line), MAX_STUB_LINE_BYTES);
    this.#socket.on('data', (chunk: Buffer) => {
      if (this.#reader.push(chunk)) return;
      if (this.#hello === undefined) this.#refuse(`its first line is longer than ${MAX_STUB_LINE_BYTES} bytes`);
      else this.#log.warn({ pid: this.#hello.pid }, `a kernel stub line longer than ${MAX_STUB_LINE_BYTES} bytes was dropped`);
    });
    // EOF or a broken connection: the kernel process is gone (SIGKILL'd by Jupyter, crashed).
    this.#socket.on('close', () => this.#stubGone());
    this.#socket.on('error', (error) => this.#log.debug({ err: String(error) }, 'kernel stub connection error'));
  }

  /** The host is stopping: the session ends as on SIGTERM, and the stub gets its exit. */
  stop(reason: string): void {
    if (this.#session !== undefined) {
      this.#session.stop(0, reason);
    } else if (this.#hello === undefined) {
      this.#socket.destroy();
      this.#finish();
    } else {
      // Its admission is under way: the session, if there is one, stops as soon as it runs.
      this.#pending.push('SIGTERM');
    }
  }

  #line(line: string): void {
    if (this.#done) return;
    if (this.#hello === undefined) {
      const hello = parseHello(line);
      if (!hello.ok) return this.#refuse(`its first line is malformed: ${hello.problem}`);
      this.#hello = hello.value;
      this.options.onHello?.();
      void this.#admit(hello.value).catch((error: unknown) => this.#refuse(`the host could not start its session: ${String(error)}`));
      return;
    }
    const parsed = parseStubLine(line);
    if (parsed.kind === 'ignored') {
      this.#log.debug({ pid: this.#hello.pid, reason: parsed.reason }, 'kernel stub line ignored');
      return;
    }
    if (this.#session !== undefined) applySignal(this.#session, parsed.signal);
    else this.#pending.push(parsed.signal);
  }

  async #admit(hello: StubHello): Promise<void> {
    const [node, entry] = await Promise.all([realOrSame(hello.argv[0]!), realOrSame(hello.argv[1]!)]);
    const admission = admit({ hello, host: this.options.install, stub: { node, entry }, args: await parseRouterArgs(hello.argv.slice(2)) });
    if (this.#gone) return this.#finish();
    if (admission.kind === 'fallback') {
      this.#log.info({ pid: hello.pid, reason: admission.reason }, 'kernel stub sent back to the standalone router');
      this.#send({ fallback: admission.reason });
      return this.#end();
    }
    const env: Record<string, string | undefined> = { ...hello.env };
    // What main.ts does for a standalone router: what this session starts gets the user's CA bundle.
    restoreExtraCaCerts(env);
    this.#log.info({ pid: hello.pid, connectionFile: admission.flags.connectionFile }, 'session starting');
    // As main.ts does for a standalone router: a manager that is not there starts while the session plans and binds.
    startManagerIfRouter(hello.argv.slice(2), env, hello.cwd).catch((error: unknown) => this.#log.debug({ err: String(error) }, 'early manager start failed; the session starts one'));
    const session = startRouterSession({
      flags: admission.flags,
      env,
      cwd: hello.cwd,
      pid: hello.pid,
      stderr: (text) => this.#send({ stderr: text }),
      onListening: () => this.#send({ listening: true }),
      onExit: (code) => {
        this.#log.info({ pid: hello.pid, code }, 'session ended');
        this.#send({ exit: code });
        this.#end();
      },
    });
    this.#session = session;
    this.options.onSession?.();
    for (const signal of this.#pending.splice(0)) applySignal(session, signal);
    if (this.#gone) session.kernelGone('the kernel process is gone');
  }

  #stubGone(): void {
    if (this.#gone) return;
    this.#gone = true;
    if (this.#session !== undefined) {
      this.#log.info({ pid: this.#hello?.pid }, 'kernel stub closed its connection: stopping its session');
      this.#session.kernelGone('the kernel process is gone');
    } else if (this.#hello === undefined) {
      this.#finish();
    }
    // Otherwise its admission is under way and finishes the connection itself.
  }

  #refuse(why: string): void {
    this.#log.warn({ pid: this.#hello?.pid, why }, 'kernel stub refused');
    this.#send({ stderr: `llmspell-fleet: the router host cannot serve this kernel: ${why}; reinstall the kernelspec (llmspell-fleet install)\n` });
    this.#send({ exit: 1 });
    this.#end();
  }

  #send(message: HostMessage): void {
    if (!this.#socket.destroyed && this.#socket.writable) this.#socket.write(frameHostMessage(message));
  }

  /** Our last line is written: close our side, and nothing runs for this stub any more. */
  #end(): void {
    this.#socket.end();
    this.#finish();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.options.onClosed();
  }
}

/** A path's real form; one that does not resolve is compared as given (it then matches nothing real). */
function realOrSame(path: string): Promise<string> {
  return realpath(path).catch(() => path);
}
