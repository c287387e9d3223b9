/**
 * One router, from its flags to its exit: what `llmspell-fleet router` runs in its own process,
 * and what the router host runs for each kernel stub that hands it a session. Everything a
 * standalone router takes from its process (environment, working directory, pid, stderr, how it
 * exits) is an option here, so a host session behaves for its client exactly as a standalone
 * router started in the kernel's place.
 */
import { join, resolve } from 'node:path';
import { ensurePrivateDir, fleetHome, logDir } from '../fleet/paths.js';
import { ProxyRouter } from '../router/proxy.js';
import { DEFAULT_RESTART_POLICY } from '../router/restart-policy.js';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import { startupMark, writeStartupTrace } from '../shared/startup-trace.js';
import { readConnectionFile } from '../wire/connection-file.js';
import { watchParent } from './parent-watch.js';
import { planRouter, type RouterFlags } from './router-plan.js';
import { openRouterLog } from './router-log.js';
import { topLevelErrorText } from './top-error.js';

type Env = Record<string, string | undefined>;

export interface RouterSessionOptions {
  flags: RouterFlags;
  /** The kernel process's environment (what a manager this router starts, and the backends, get). */
  env: Env;
  /** The kernel process's working directory: relative paths, the project file and new backends start from here. */
  cwd: string;
  /** The kernel process's pid: names the log (router-<pid>.log) and is the router the manager sees. */
  pid: number;
  /** What a standalone router writes to its stderr. */
  stderr: (text: string) => void;
  /** Called once, when the session has ended, with the exit code a standalone router would exit with. */
  onExit: (code: number) => void;
  /** The client's sockets are bound. */
  onListening?: () => void;
  /** Record start-up marks (startup-trace.ts is per process: only a standalone router traces). */
  trace?: boolean;
}

export interface RouterSession {
  /** Leave every backend and close every socket; onExit follows. Idempotent; before the router runs, it stops as soon as it does. */
  stop(code: number, reason: string): void;
  /** What SIGINT does to a standalone router: interrupt the backends running this session's cells. */
  interrupt(): void;
  /**
   * The kernel process is gone (SIGKILL'd, crashed): as stop(), but the clients' ports are freed
   * first, as the OS frees a killed standalone router's, for the kernel Jupyter starts in its place.
   */
  kernelGone(reason: string): void;
}

export function startRouterSession(options: RouterSessionOptions): RouterSession {
  let router: ProxyRouter | undefined;
  let stopRequest: { code: number; reason: string; gone?: boolean } | undefined;
  let exited = false;
  let cleanup: () => void = () => undefined;
  const exit = (code: number): void => {
    if (exited) return;
    exited = true;
    cleanup();
    options.onExit(code);
  };
  run(options, {
    started: (r) => {
      router = r;
      if (stopRequest?.gone === true) void r.releaseClients();
      if (stopRequest !== undefined) void r.stop(stopRequest.code, stopRequest.reason);
    },
    cleanupWith: (fn) => (cleanup = fn),
    stopRequested: () => stopRequest,
    exit,
  }).catch((error: unknown) => {
    // What the CLI's catch-all says when a router cannot even start (no connection file, no fleet home).
    options.stderr(topLevelErrorText(error));
    exit(1);
  });
  return {
    stop(code, reason) {
      if (router !== undefined) void router.stop(code, reason);
      else stopRequest ??= { code, reason };
    },
    interrupt() {
      router?.interrupt();
    },
    kernelGone(reason) {
      if (router === undefined) {
        stopRequest = { code: 0, reason, gone: true };
        return;
      }
      void router.releaseClients();
      void router.stop(0, reason);
    },
  };
}

interface RunHooks {
  started(router: ProxyRouter): void;
  /** A stop (or the kernel's end) asked for before the router started: it then never binds the kernel's ports or asks for a backend. */
  stopRequested(): { code: number; reason: string } | undefined;
  cleanupWith(fn: () => void): void;
  exit(code: number): void;
}

async function run(options: RouterSessionOptions, hooks: RunHooks): Promise<void> {
  const { flags, env, cwd, pid } = options;
  const mark = options.trace === true ? startupMark : () => undefined;
  mark('action');
  const home = await ensurePrivateDir(fleetHome(env, cwd));
  await ensurePrivateDir(logDir(home));
  const log = openRouterLog({ file: join(logDir(home), `router-${pid}.log`), level: flags.logLevel ?? 'info', stderr: options.stderr });
  const logger: Logger = log.logger;
  let stopWatch: () => void = () => undefined;
  hooks.cleanupWith(() => {
    stopWatch();
    log.close();
  });
  const connection = await readConnectionFile(resolve(cwd, flags.connectionFile));
  const specDir = flags.specDir === undefined ? undefined : resolve(cwd, flags.specDir);
  const { directory, requirement, resolver, limits } = await planRouter({ flags: { ...flags, specDir }, connection, home, logger, env, cwd, pid });
  mark('planned');

  const router = new ProxyRouter({
    connection,
    directory,
    requirement,
    resolver,
    logger,
    maxMessageBytes: Math.floor(limits.max_message_mb * 1024 * 1024),
    heartbeatTimeoutMs: limits.heartbeat_timeout_seconds * 1000,
    restartPolicy: { ...DEFAULT_RESTART_POLICY, limit: limits.restart_limit },
    onStopped: (code) => {
      void (directory as { close?: () => Promise<void> }).close?.();
      hooks.exit(code);
    },
  });
  const early = hooks.stopRequested();
  if (early !== undefined) {
    logger.info({ reason: early.reason }, 'router stopped before it started');
    void (directory as { close?: () => Promise<void> }).close?.();
    hooks.exit(early.code);
    return;
  }
  try {
    await router.start();
  } catch (error) {
    // stderr goes to the client's terminal (often nowhere); the log is where people look later.
    // The router's logger also says it on stderr, with the log's path, so it is not said again.
    logger.error({ err: describeError(error) }, 'router could not start');
    // Closes what did bind; a standalone router exits at once anyway, a host session must not leak it.
    void router.stop(1, 'router could not start');
    return;
  }
  mark('listening');
  if (options.trace === true) void router.defaultSlot?.settled.then(writeStartupTrace);
  logger.info({ pid, connectionFile: flags.connectionFile }, 'router listening');
  options.onListening?.();
  hooks.started(router);
  // Jupyter sets JPY_PARENT_PID to the process that launched the kernel: if it dies without stopping us, nobody else will.
  stopWatch = watchParent(env.JPY_PARENT_PID, () => void router.stop(0, 'parent process exited'));
}
