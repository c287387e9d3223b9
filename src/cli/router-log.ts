import { openSync } from 'node:fs';
import { pino } from 'pino';
import { REDACT_PATHS, type Logger } from '../shared/log.js';

/**
 * The router's stdout/stderr land in the user's terminal (jupyter console) or the server log,
 * so only warnings go there; the full log goes to a private file.
 */
export function routerLogger(options: { file: string; level: string }): Logger {
  const fd = openSync(options.file, 'a', 0o600);
  return pino(
    { name: 'llmspell-fleet-router', level: options.level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    pino.multistream([
      { level: options.level as pino.Level, stream: pino.destination({ fd, sync: true }) },
      { level: 'warn', stream: pino.destination({ fd: 2, sync: true }) },
    ]),
  );
}
