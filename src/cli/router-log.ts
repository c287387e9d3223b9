import { closeSync, openSync, writeSync } from 'node:fs';
import { createLogger, type Logger } from '../shared/log.js';
import { HumanProblemLines } from './human-stderr.js';

export interface RouterLogOptions {
  file: string;
  level: string;
  /** Where the human lines go. Default this process's stderr; a router host session sends them to its kernel stub. */
  stderr?: (line: string) => void;
}

/**
 * The router's stderr lands in the user's terminal (jupyter console) or the server log, so the
 * JSON log goes only to a private file (0600, in the fleet home's 0700 logs dir) and stderr gets
 * one human line per distinct problem, naming that file (human-stderr.ts).
 */
export function routerLogger(options: RouterLogOptions): Logger {
  return openRouterLog(options).logger;
}

/** The same logger, with the file closed by close(): a router host outlives each of its sessions' logs. */
export function openRouterLog(options: RouterLogOptions): { logger: Logger; close(): void } {
  const fd = openSync(options.file, 'a', 0o600);
  let open = true;
  // Not the fd itself: a line logged after close() (a late timer of a stopped session) is
  // dropped here instead of landing in whatever file reuses the number.
  const destination = {
    write(line: string): void {
      if (open) writeSync(fd, line);
    },
  };
  const write = options.stderr ?? ((line: string) => void process.stderr.write(line));
  const warnings = new HumanProblemLines({ logFile: options.file, write: (line) => {
    if (open) write(line);
  } });
  const logger = createLogger({ name: 'llmspell-fleet-router', level: options.level, destination, warnings });
  return {
    logger,
    close() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}
