import { openSync } from 'node:fs';
import { createLogger, type Logger } from '../shared/log.js';

/**
 * The router's stdout/stderr land in the user's terminal (jupyter console) or the server log,
 * so only warnings go there; the full log goes to a private file.
 */
export function routerLogger(options: { file: string; level: string }): Logger {
  const fd = openSync(options.file, 'a', 0o600);
  return createLogger({ name: 'llmspell-fleet-router', level: options.level, destination: fd, warningsToStderr: true });
}
