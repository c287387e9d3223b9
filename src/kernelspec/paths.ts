/**
 * Where kernelspecs live. The data-dir rules mirror jupyter_core 5.x (`jupyter_data_dir`) and
 * jupyter_client's `install_kernel_spec`, so what we install is what `jupyter kernelspec list` finds.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { FleetError, describeError } from '../shared/errors.js';

export type InstallScope = { kind: 'user' } | { kind: 'prefix'; prefix: string } | { kind: 'sys-prefix' };

/** The CLI flags as commander hands them over. */
export interface ScopeFlags {
  user?: boolean;
  prefix?: string;
  sysPrefix?: boolean;
}

/** The parts of the host the data-dir rules read; injected so they stay pure and testable. */
export interface HostContext {
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  home: string;
  cwd: string;
}

export function currentHost(): HostContext {
  return { env: process.env, platform: process.platform, home: homedir(), cwd: process.cwd() };
}

/** At most one of --user / --prefix / --sys-prefix; none means --user, like `jupyter kernelspec install --user`. */
export function resolveScope(flags: ScopeFlags): InstallScope {
  const chosen = [
    flags.user === true ? '--user' : undefined,
    flags.prefix !== undefined ? '--prefix' : undefined,
    flags.sysPrefix === true ? '--sys-prefix' : undefined,
  ].filter((flag): flag is string => flag !== undefined);
  if (chosen.length > 1) {
    throw new FleetError(
      'BAD_INSTALL_OPTIONS',
      `${chosen.join(' and ')} cannot be combined: pick one place to install (default --user)`,
      { flags: chosen },
    );
  }
  if (flags.prefix !== undefined) {
    if (flags.prefix.trim() === '') {
      throw new FleetError('BAD_INSTALL_OPTIONS', '--prefix needs a directory, e.g. --prefix /opt/jupyter-env', {
        option: 'prefix',
      });
    }
    return { kind: 'prefix', prefix: flags.prefix };
  }
  return flags.sysPrefix === true ? { kind: 'sys-prefix' } : { kind: 'user' };
}

function pathFor(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

/** jupyter_core's `envset`: set means present and not one of its "false" spellings (even empty counts). */
function envFlag(env: HostContext['env'], name: string): boolean {
  const value = env[name];
  return value !== undefined && !['no', 'n', 'false', 'off', '0', '0.0'].includes(value.toLowerCase());
}

/**
 * jupyter_core's `jupyter_data_dir()`. The JUPYTER_PLATFORM_DIRS branch uses platformdirs'
 * usual answers (we cannot ask Windows' shell-folder API from here, LOCALAPPDATA is its usual value).
 */
export function userDataDir(host: HostContext): string {
  const { env, platform, home } = host;
  const p = pathFor(platform);
  if (env.JUPYTER_DATA_DIR) return env.JUPYTER_DATA_DIR;
  const platformDirs = envFlag(env, 'JUPYTER_PLATFORM_DIRS');
  if (platform === 'darwin') {
    return platformDirs ? p.join(home, 'Library', 'Application Support', 'jupyter') : p.join(home, 'Library', 'Jupyter');
  }
  if (platform === 'win32') {
    if (platformDirs && env.LOCALAPPDATA) return p.join(env.LOCALAPPDATA, 'jupyter');
    if (env.APPDATA) return p.join(env.APPDATA, 'jupyter');
    return p.join(env.JUPYTER_CONFIG_DIR || p.join(home, '.jupyter'), 'data');
  }
  // Linux and other Unix: platformdirs gives the same XDG answer, so no branch is needed.
  return p.join(env.XDG_DATA_HOME || p.join(home, '.local', 'share'), 'jupyter');
}

/** The active environment's prefix when the environment says it directly (an activated venv). */
export function sysPrefixFromEnv(env: HostContext['env']): string | undefined {
  return env.VIRTUAL_ENV || undefined;
}

/**
 * The Jupyter data dir for a scope. `sysPrefix` must be supplied for the sys-prefix scope
 * (see `detectSysPrefix`); keeping that I/O out makes this a pure function.
 */
export function dataDirFor(scope: InstallScope, host: HostContext, sysPrefix?: string): string {
  const p = pathFor(host.platform);
  switch (scope.kind) {
    case 'user':
      return userDataDir(host);
    case 'prefix':
      return p.join(p.resolve(host.cwd, scope.prefix), 'share', 'jupyter');
    case 'sys-prefix':
      if (sysPrefix === undefined) {
        throw new FleetError('INSTALL_FAILED', 'the Python prefix for --sys-prefix is unknown: use --prefix DIR instead', {
          scope: scope.kind,
        });
      }
      return p.join(p.resolve(host.cwd, sysPrefix), 'share', 'jupyter');
  }
}

export function kernelDirFor(dataDir: string, name: string, platform: NodeJS.Platform = process.platform): string {
  return pathFor(platform).join(dataDir, 'kernels', name);
}

export interface DetectSysPrefixOptions {
  env: HostContext['env'];
  /** The Python to ask when no venv is active. Default `python3`, found on PATH. */
  python?: string;
}

/** VIRTUAL_ENV if set, else `sys.prefix` of the Python on PATH (that is the one whose Jupyter runs). */
export async function detectSysPrefix(options: DetectSysPrefixOptions): Promise<string> {
  const fromEnv = sysPrefixFromEnv(options.env);
  if (fromEnv !== undefined) return fromEnv;
  const python = options.python ?? 'python3';
  const env = Object.fromEntries(
    Object.entries(options.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  try {
    const result = await execa(python, ['-c', 'import sys; print(sys.prefix)'], {
      env,
      extendEnv: false,
      timeout: 30_000,
      stdin: 'ignore',
    });
    const prefix = result.stdout.trim();
    if (prefix === '') throw new Error(`${python} printed no prefix`);
    return prefix;
  } catch (error) {
    throw new FleetError(
      'INSTALL_FAILED',
      `could not find the active Python's prefix for --sys-prefix (running ${python} failed: ${describeError(error)}); activate the environment or use --prefix DIR`,
      { python },
      { cause: error },
    );
  }
}

/**
 * The package's root directory (the one holding our package.json), found from this module's
 * location so it works both from src/ (tests) and from dist/src/ (the installed CLI).
 */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = path.dirname(from);
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
        if (parsed.name === 'llmspell-fleet') return dir;
      } catch {
        // Not ours or unreadable: keep walking up.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new FleetError('INSTALL_FAILED', `cannot find the llmspell-fleet package root above ${from}; reinstall the package`, {
        from,
      });
    }
    dir = parent;
  }
}

/** The built CLI that the kernelspec's argv runs. */
export function defaultCliPath(root: string = packageRoot()): string {
  return path.join(root, 'dist', 'src', 'cli', 'main.js');
}

/** Where the logo files ship: the package's kernelspec/ folder. */
export function defaultResourcesDir(root: string = packageRoot()): string {
  return path.join(root, 'kernelspec');
}
