/**
 * `%llmspell get NAME... --from RUNTIME[/PROVIDER]` and `%llmspell put NAME... --to ...`: the
 * words only; which backend that is and how values cross is src/router/values/.
 */
import { isRequirementName, nameRule } from './directive.js';

export type ValuesMagic =
  | { kind: 'get'; names: string[]; runtime: string; provider?: string }
  | { kind: 'put'; names: string[]; runtime: string; provider?: string };

const NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export const VALUES_USAGE = {
  get: '%llmspell get NAME [NAME...] --from RUNTIME[/PROVIDER]',
  put: '%llmspell put NAME [NAME...] --to RUNTIME[/PROVIDER]',
} as const;

/** The option word each command takes. */
export const VALUES_OPTION = { get: '--from', put: '--to' } as const;

export function parseValuesMagic(command: 'get' | 'put', args: string[]): ValuesMagic | { kind: 'error'; message: string } {
  const usage = `%llmspell ${command} takes names and where: ${VALUES_USAGE[command]}`;
  const option = VALUES_OPTION[command];
  const names: string[] = [];
  let where: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (word === option || word.startsWith(`${option}=`)) {
      if (where !== undefined) return { kind: 'error', message: `${usage} (${option} given twice)` };
      where = word === option ? args[++i] : word.slice(option.length + 1);
      if (where === undefined || where === '') return { kind: 'error', message: usage };
    } else if (word.startsWith('-')) {
      return { kind: 'error', message: `${usage} (unknown option ${word})` };
    } else if (!NAME.test(word)) {
      return { kind: 'error', message: `%llmspell ${command}: "${word}" is not a variable name (letters, digits, _ and $, not starting with a digit)` };
    } else if (!names.includes(word)) {
      names.push(word);
    }
  }
  if (names.length === 0 || where === undefined) return { kind: 'error', message: usage };
  const [runtime, provider, ...extra] = where.split('/');
  if (extra.length > 0) return { kind: 'error', message: usage };
  if (!isRequirementName(runtime!)) return { kind: 'error', message: `%llmspell ${command}: ${nameRule('runtime', runtime!)}` };
  if (provider === undefined) return { kind: command, names, runtime: runtime! };
  if (!isRequirementName(provider)) return { kind: 'error', message: `%llmspell ${command}: ${nameRule('provider', provider)}` };
  return { kind: command, names, runtime: runtime!, provider };
}

/** Completion after `get`/`put`: runtimes after the option, the option once a name is typed. */
export function valuesMagicWords(done: string[], runtimes: string[]): string[] {
  const command = done[0] as 'get' | 'put';
  const option = VALUES_OPTION[command];
  if (done.at(-1) === option) return runtimes;
  if (done.includes(option) || done.length < 2) return [];
  return [option];
}
