/**
 * Runtime, provider, group, kernelspec and kernel-id names. They become file names, argv words
 * and log fields, so: letters, digits, `_`, `-`, `.`, starting with a letter or digit (no path
 * separator, no leading dot or dash, no spaces).
 */
export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export function isSafeName(value: string): boolean {
  return SAFE_NAME.test(value);
}
