/**
 * One error base for the whole project. `code` is public API: never rename or reuse one.
 * Context travels as fields so that callers (and tests) branch on data, not on message text.
 */
export type FleetErrorCode =
  // wire
  | 'BAD_CONNECTION_FILE'
  | 'UNSUPPORTED_SCHEME'
  /** CurveZMQ asked for (runtimes.X.curve, or keys in a connection file) but this zeromq build has no CURVE. */
  | 'CURVE_UNAVAILABLE'
  // config and resolution
  | 'BAD_CONFIG'
  | 'UNKNOWN_RUNTIME'
  | 'UNKNOWN_PROVIDER'
  | 'KERNELSPEC_NOT_FOUND'
  // backend processes
  | 'SPAWN_FAILED'
  | 'BACKEND_EXITED'
  | 'READY_TIMEOUT'
  // router
  | 'BIND_FAILED'
  // install
  | 'INSTALL_FAILED'
  | 'BAD_KERNEL_NAME'
  | 'BAD_INSTALL_OPTIONS'
  | 'FOREIGN_KERNELSPEC'
  // fleet manager
  | 'MANAGER_UNAVAILABLE'
  | 'UNKNOWN_BACKEND'
  | 'BACKEND_NOT_READY'
  | 'BAD_REQUEST'
  | 'MANAGER_ERROR'
  | 'POOL_STARTUP_FAILED'
  /** max_backends reached: the request would start one backend more than fleet.toml allows (issue #10). */
  | 'FLEET_FULL'
  // the Jupyter client (src/wire/client.ts); see JupyterClientErrorCode
  | 'REQUEST_TIMEOUT'
  | 'CLIENT_CLOSED'
  | 'QUEUE_FULL'
  | 'CHANNEL_NOT_OPEN'
  | 'IOPUB_SILENT';

const brand = Symbol.for('llmspell-fleet.error');

export class FleetError extends Error {
  readonly [brand] = true;
  override readonly name: string = 'FleetError';
  constructor(
    readonly code: FleetErrorCode,
    message: string,
    readonly context: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isFleetError(value: unknown): value is FleetError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

/** A message for any thrown value, without leaking a stack into user-facing text. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
