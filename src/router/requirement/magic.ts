// Placeholder until the requirement helper lands its module (same API).
export type FleetMagic =
  | { kind: 'use'; runtime: string; provider?: string }
  | { kind: 'status' } | { kind: 'list' } | { kind: 'help' } | { kind: 'error'; message: string };
export function parseFleetMagic(code: string): FleetMagic | undefined {
  const t = code.trim();
  if (!/^%llmspell(\s|$)/.test(t) || t.includes('\n')) return undefined;
  const [, cmd, a, b] = t.split(/\s+/);
  if (!cmd || cmd === 'help') return { kind: 'help' };
  if (cmd === 'status' || cmd === 'list') return { kind: cmd };
  if (cmd === 'use' && a) return { kind: 'use', runtime: a, provider: b };
  return { kind: 'error', message: `unknown: ${t}` };
}
export function helpText(): string { return '%llmspell use R [P] | status | list | help\n'; }
export function fleetMagicCompletions(_code: string, _cursor: number, _known: { runtimes: string[]; providers: string[] }): { matches: string[]; cursor_start: number; cursor_end: number } | undefined { return undefined; }
