/** Which backend a request wants: runtime, provider and an optional sharing group. */
export interface Requirement {
  readonly runtime: string;
  readonly provider: string;
  readonly group?: string;
}

/** How a backend is interrupted: SIGINT to its process group, or an interrupt_request on control. */
export type InterruptMode = 'signal' | 'message';

/**
 * Pure: the sharing key, `runtime/provider` or `runtime/provider#group`. Backends are shared
 * exactly when their keys are equal. Names are safe names (see names.ts), which hold no `/` or
 * `#`, so the readable form is also unambiguous. It names backends in notices and logs; it is
 * never written to disk (the registry stores the requirement's fields).
 */
export function requirementKey(r: Requirement): string {
  return `${r.runtime}/${r.provider}${r.group ? `#${r.group}` : ''}`;
}
