/**
 * Jupyter's per-user data directory, by jupyter_core 5.x's rules (`jupyter_data_dir`), so that
 * what we install and what we search is what `jupyter kernelspec list` uses.
 */
import { homedir } from 'node:os';
import path from 'node:path';

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

export function pathFor(platform: NodeJS.Platform): path.PlatformPath {
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
export function userDataDir(host: Pick<HostContext, 'env' | 'platform' | 'home'>): string {
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
