import type { Command } from 'commander';
import { targetCommand } from './target-command.js';

export function registerInterrupt(program: Command): void {
  targetCommand<{ interrupted: string; mode: string }>(program, {
    name: 'interrupt',
    description: "interrupt a backend's running cell in its own interrupt mode (SIGINT or interrupt_request), as a notebook's interrupt would",
    argument: 'backend id (e.g. python-none-1a2b3c4d) or one of its ports',
    json: (result) => result,
    lines: (result) => `interrupted ${result.interrupted} (${result.mode === 'signal' ? 'SIGINT to its process group' : 'interrupt_request on control'})\n`,
  });
}
