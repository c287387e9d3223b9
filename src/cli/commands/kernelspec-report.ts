import { describeError, isFleetError } from '../../shared/errors.js';

/**
 * install/uninstall failures are the user's to fix (bad name, wrong location, permissions), so
 * they get one line and exit code 1, not a stack. Unexpected errors go up to main's handler.
 */
export function reportFailure(error: unknown): void {
  if (!isFleetError(error)) throw error;
  process.stderr.write(`llmspell-fleet: ${describeError(error)}\n`);
  process.exitCode = 1;
}
