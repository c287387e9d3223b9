import type { Command } from 'commander';
import type { RouterFlags } from '../router-plan.js';
import { startRouterSession } from '../router-session.js';
import { applySignal, ROUTER_SIGNALS } from '../router-signals.js';

export type { RouterFlags } from '../router-plan.js';

/**
 * The router command's definition, with the action given: the CLI runs the router in this
 * process; the router host parses a kernel stub's command line with the same definition
 * (router-host/router-args.ts), so the two never disagree on a flag.
 */
export function defineRouterCommand(program: Command, action: (flags: RouterFlags) => void | Promise<void>): Command {
  return program
    .command('router')
    .description('run as the Jupyter kernel: bind the sockets in the connection file and relay them to the backend each request asks for (what kernel.json runs)')
    .requiredOption('--connection-file <file>', 'connection file written by Jupyter ({connection_file})')
    .option('--spec-dir <dir>', "the kernelspec's directory ({resource_dir}); its metadata.llmspell may pin runtime/provider")
    .option('--runtime <name>', 'backend runtime (lua, javascript, python, ...); see README "Which backend a request goes to"')
    .option('--provider <name>', 'LLM provider (openai, anthropic, ollama, ...)')
    .option('--local', 'start a private backend that stops with this router instead of sharing the fleet (also LLMSPELL_FLEET_MODE=local)')
    .option('--log-level <level>', 'router log level; the JSON log goes to $LLMSPELL_FLEET_HOME/logs/router-<pid>.log, stderr gets one human line per distinct problem', 'info')
    .action(async (flags: RouterFlags) => {
      await action(flags);
    });
}

export function registerRouter(program: Command): void {
  defineRouterCommand(program, runRouter);
}

/** The router in this process: the process's own environment, signals and exit. */
function runRouter(flags: RouterFlags): void {
  const session = startRouterSession({
    flags,
    env: process.env,
    cwd: process.cwd(),
    pid: process.pid,
    stderr: (text) => void process.stderr.write(text),
    onExit: (code) => process.exit(code),
    trace: true,
  });
  for (const signal of ROUTER_SIGNALS) process.on(signal, () => applySignal(session, signal));
}
