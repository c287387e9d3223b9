import { homedir } from 'node:os';
import { chmod, mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { FleetError } from '../shared/errors.js';

type Env = Record<string, string | undefined>;

/** "~" and "~/x" become absolute; "~user/x" is left alone (we never look up other users). */
export function expandHome(p: string, home: string = homedir()): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return join(home, p.slice(2));
  return p;
}

function homeOf(env: Env): string {
  // HOME from the given env first, so tests and callers with a synthetic env stay hermetic.
  return env.HOME && env.HOME.length > 0 ? env.HOME : homedir();
}

/**
 * Where the fleet keeps connection files, logs and state: $LLMSPELL_FLEET_HOME or ~/.llmspell/fleet.
 * A relative $LLMSPELL_FLEET_HOME is taken from `cwd`: the router host passes its kernel's, not its own.
 */
export function fleetHome(env: Env = process.env, cwd: string = process.cwd()): string {
  const home = homeOf(env);
  const set = env.LLMSPELL_FLEET_HOME;
  return resolve(cwd, set && set.length > 0 ? expandHome(set, home) : join(home, '.llmspell', 'fleet'));
}

/** $LLMSPELL_FLEET_CONFIG or <fleet home>/fleet.toml. */
export function configPath(env: Env = process.env): string {
  const set = env.LLMSPELL_FLEET_CONFIG;
  if (set && set.length > 0) return resolve(expandHome(set, homeOf(env)));
  return join(fleetHome(env), 'fleet.toml');
}

/** Connection files of backends live here; they hold HMAC keys, hence a private dir. */
export function backendDir(home: string): string {
  return join(home, 'backends');
}

/**
 * Pure: `<kernel id>.d` beside a backend's `<kernel id>.json`, where a container backend with
 * curve reads its own copy of the connection file (see ContainerPlan.writableDir).
 */
export function kernelCopyDir(connectionFile: string): string {
  return `${connectionFile.replace(/\.json$/, '')}.d`;
}

export function logDir(home: string): string {
  return join(home, 'logs');
}

/**
 * Create `path` (and parents) with mode 0700, or tighten an existing dir of ours to 0700.
 * A dir owned by someone else is refused: whoever owns it could read the keys we put there.
 */
export async function ensurePrivateDir(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    await mkdir(abs, { recursive: true, mode: 0o700 });
  } catch (cause) {
    throw new FleetError(
      'BAD_CONFIG',
      `cannot create directory ${abs}: ${(cause as Error).message}; set LLMSPELL_FLEET_HOME to a directory you can write`,
      { path: abs },
      { cause },
    );
  }
  const info = await stat(abs);
  if (!info.isDirectory()) {
    throw new FleetError('BAD_CONFIG', `${abs} exists but is not a directory; remove it or set LLMSPELL_FLEET_HOME elsewhere`, {
      path: abs,
    });
  }
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) {
    throw new FleetError(
      'BAD_CONFIG',
      `${abs} is owned by uid ${info.uid}, not by you (uid ${uid}); it must be private to you: set LLMSPELL_FLEET_HOME to a directory of your own`,
      { path: abs, owner: info.uid, uid },
    );
  }
  if ((info.mode & 0o777) !== 0o700) await chmod(abs, 0o700);
  return abs;
}
