import { FleetError } from '../shared/errors.js';

export const PLACEHOLDERS = ['connection_file', 'kernel_id', 'runtime', 'provider', 'config', 'resource_dir'] as const;
export type Placeholder = (typeof PLACEHOLDERS)[number];
export type TemplateVars = Partial<Record<Placeholder, string | undefined>>;

export interface ExpandOptions {
  /** Per placeholder: what the user should set when it has no value (e.g. "set providers.openai.config in fleet.toml"). */
  hints?: Partial<Record<Placeholder, string>>;
  /** Names the template in errors, e.g. "runtimes.lua.argv". */
  where?: string;
  /**
   * false: leave unknown `{name}`s as they are. Jupyter does that for kernelspec argv, so a
   * third-party kernel.json with its own braces still starts; our own templates stay strict.
   */
  strict?: boolean;
}

// Only this shape is a placeholder; `{}`, `{"a":1}` or `{Foo}` are literal text.
const PATTERN = /\{([a-z_]+)\}/g;

function isPlaceholder(name: string): name is Placeholder {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

/** Placeholder-shaped names used in one argv element, in order, known or not. */
export function placeholdersIn(element: string): string[] {
  return [...element.matchAll(PATTERN)].map((m) => m[1] as string);
}

/** Unknown placeholders in a template, for config validation before anything is launched. */
export function unknownPlaceholders(template: readonly string[]): Array<{ index: number; name: string }> {
  return template.flatMap((element, index) =>
    placeholdersIn(element)
      .filter((name) => !isPlaceholder(name))
      .map((name) => ({ index, name })),
  );
}

const KNOWN_LIST = PLACEHOLDERS.map((p) => `{${p}}`).join(', ');

/**
 * Fill `{name}` placeholders inside each argv element. Elements stay separate: the result is
 * an argv for a direct exec, never a shell string, so values need no quoting.
 */
export function expandArgv(template: readonly string[], vars: TemplateVars, options: ExpandOptions = {}): string[] {
  const where = options.where ?? 'argv';
  const strict = options.strict ?? true;
  return template.map((element, index) =>
    element.replace(PATTERN, (whole, name: string) => {
      if (!isPlaceholder(name)) {
        if (!strict) return whole;
        throw new FleetError(
          'BAD_CONFIG',
          `${where}[${index}] uses unknown placeholder {${name}}; known placeholders are ${KNOWN_LIST}`,
          { placeholder: name, index, where },
        );
      }
      const value = vars[name];
      if (value === undefined) {
        const hint = options.hints?.[name] ?? `give {${name}} a value`;
        throw new FleetError('BAD_CONFIG', `${where}[${index}] uses {${name}}, which has no value here: ${hint}`, {
          placeholder: name,
          index,
          where,
        });
      }
      return value;
    }),
  );
}
