/** What a command line asks for, read before anything heavy loads. Pure. */

/** A line that only asks for the version: main.ts answers it without loading commander. */
export function onlyVersion(args: readonly string[]): boolean {
  return args.length > 0 && args.every((a) => a === '-V' || a === '--version');
}
