import { createRequire } from 'node:module';
import type * as Pino from 'pino';
import type { Logger as PinoLogger, DestinationStream } from 'pino';

// Required, not imported: importing CommonJS from ESM costs start-up time (see src/wire/zmq.ts).
const { pino } = createRequire(import.meta.url)('pino') as typeof Pino;

export type Logger = PinoLogger;

export interface LoggerOptions {
  level?: string;
  /** Where log lines go: a stream or a file descriptor. Default: stderr, which Jupyter shows in its own log. */
  destination?: DestinationStream | number;
  /**
   * Also send warnings and errors (pino's JSON lines) here, for a destination that is not
   * stderr (a private log file): e.g. a sink that turns them into short human lines.
   */
  warnings?: DestinationStream;
  name?: string;
}

/**
 * Keys that may hold secrets. Provider env (API keys) and HMAC keys must never reach a log;
 * redaction is a safety net, the first rule is not to log them at all.
 */
const REDACT_PATHS = [
  'key', '*.key', 'keys', '*.keys', 'env', '*.env', 'signature', '*.signature', 'config.key',
  // A kernel's CurveZMQ secret decrypts its link; connection info sits up to two levels deep (handle.connection).
  'curve_secretkey', '*.curve_secretkey', '*.*.curve_secretkey', '*.*.key',
];

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LLMSPELL_FLEET_LOG_LEVEL ?? 'info';
  const destination = options.destination ?? 2;
  const main = typeof destination === 'number' ? pino.destination({ fd: destination, sync: true }) : destination;
  const stream = options.warnings
    ? pino.multistream([
        { level: level as Pino.Level, stream: main },
        { level: 'warn', stream: options.warnings },
      ])
    : main;
  return pino({ name: options.name ?? 'llmspell-fleet', level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, stream);
}

/** A logger that drops everything, for library use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
