import { openSync } from 'node:fs';
import { createLogger, type Logger } from '../shared/log.js';
import { HumanProblemLines } from './human-stderr.js';

/**
 * The router's stderr lands in the user's terminal (jupyter console) or the server log, so the
 * JSON log goes only to a private file (0600, in the fleet home's 0700 logs dir) and stderr gets
 * one human line per distinct problem, naming that file (human-stderr.ts).
 */
export function routerLogger(options: { file: string; level: string; stderr?: (line: string) => void }): Logger {
  const fd = openSync(options.file, 'a', 0o600);
  const warnings = new HumanProblemLines({ logFile: options.file, write: options.stderr ?? ((line) => void process.stderr.write(line)) });
  return createLogger({ name: 'llmspell-fleet-router', level: options.level, destination: fd, warnings });
}
