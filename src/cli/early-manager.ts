/**
 * The first thing a router of the fleet does, before commander and its own modules load:
 * start the fleet manager if none is there (fleet/manager/early-start.ts says how), so that
 * the manager's start-up overlaps the router's instead of following it (issue #12 item 3).
 */
import { startManagerEarly, type EarlyStart } from '../fleet/manager/early-start.js';
import { fleetHome } from '../fleet/paths.js';

type Env = Record<string, string | undefined>;

/**
 * Pure: whether this command line is a router that will ask the fleet manager for its backend:
 * the router command with a connection file, not --local (nor LLMSPELL_FLEET_MODE=local), not
 * asking for help; or the router host as a kernel stub starts it. Anything else (another
 * command, a mistyped line) starts nothing early.
 */
export function wantsEarlyManager(args: readonly string[], env: Env): boolean {
  if (env.LLMSPELL_FLEET_MODE === 'local') return false;
  // A kernel stub starts the host for a router of the fleet (it runs local routers itself), with
  // that kernel's environment: its first session will want the manager, so start it now.
  if (args[0] === 'router-host') return args.length === 1;
  if (args[0] !== 'router') return false;
  const rest = args.slice(1);
  if (rest.some((a) => a === '--local' || a === '--help' || a === '-h')) return false;
  return rest.some((a) => a === '--connection-file' || a.startsWith('--connection-file='));
}

/** Starts the manager early when `args` is a router of the fleet (a router host session passes its kernel's cwd); resolves once it is spawned (or not needed). */
export async function startManagerIfRouter(args: readonly string[], env: Env, cwd: string = process.cwd()): Promise<EarlyStart | undefined> {
  if (!wantsEarlyManager(args, env)) return undefined;
  return startManagerEarly({ home: fleetHome(env, cwd), env });
}
