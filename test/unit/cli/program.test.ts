import { describe, expect, it } from 'vitest';
import { LAZY_COMMAND_NAMES, commandsFor, createProgram } from '../../../src/cli/program.js';

const argv = (...args: string[]) => ['node', 'llmspell-fleet', ...args];

describe('commandsFor', () => {
  it.each([
    [['router', '--connection-file', 'k.json'], ['router']],
    [['router', '--help'], ['router']],
    [['router-host'], ['router-host']],
    [['stop-all', '--json'], ['stop-all']],
    [['llmspell-adapter', '--', 'llmspell', 'kernel'], ['llmspell-adapter']],
    [['--version'], []],
    [['-V'], []],
    [[], 'all'],
    [['--help'], 'all'],
    [['-h', 'router'], 'all'],
    [['help', 'router'], 'all'],
    [['rotuer'], 'all'],
    [['--version', 'router'], 'all'],
  ] as const)('%j -> %j', (args, expected) => {
    expect(commandsFor(args)).toEqual(expected);
  });
});

describe('createProgram', () => {
  it('registers every command for help, in the order --help lists them, and knows each one by name', async () => {
    const all = await createProgram(argv('--help'));
    const names = all.commands.map((c) => c.name());
    expect(names).toEqual(['router', 'router-host', 'install', 'uninstall', 'manager', 'service', 'spawn', 'find', 'list', 'top', 'stop', 'stop-all', 'interrupt', 'cleanup', 'health', 'logs', 'dashboard', 'doctor', 'llmspell-adapter']);
    expect([...LAZY_COMMAND_NAMES].sort()).toEqual([...names].sort());
  });

  it.each(LAZY_COMMAND_NAMES)('%s alone has the same help as among all commands', async (name) => {
    const alone = await createProgram(argv(name, '--help'));
    expect(alone.commands.map((c) => c.name())).toEqual([name]);
    const all = await createProgram(argv('help', name));
    const help = (program: typeof alone) => program.commands.find((c) => c.name() === name)!.helpInformation();
    expect(help(alone)).toBe(help(all));
    expect(help(alone)).toContain(`Usage: llmspell-fleet ${name}`);
  });

  it('answers --version without loading any command', async () => {
    const program = await createProgram(argv('--version'));
    expect(program.commands).toEqual([]);
    expect(program.version()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
