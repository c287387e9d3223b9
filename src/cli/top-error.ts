import { describeError, isFleetError } from '../shared/errors.js';

/**
 * Pure: what the CLI says on stderr about an error nothing else handled. Errors we raise carry a
 * message written for the user; anything else is a bug worth its stack. A router host session
 * says the same to its kernel stub.
 */
export function topLevelErrorText(error: unknown): string {
  const said = `llmspell-fleet: ${isFleetError(error) ? error.message : describeError(error)}\n`;
  if (!isFleetError(error) && error instanceof Error && error.stack) return `${said}${error.stack}\n`;
  return said;
}
