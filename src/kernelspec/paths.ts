/**
 * Where kernelspecs live. The data-dir rules mirror jupyter_core 5.x (`jupyter_data_dir`) and
 * jupyter_client's `install_kernel_spec`, so what we install is what `jupyter kernelspec list` finds.
 */
import path from 'node:path';
import { FleetError, describeError } from '../shared/errors.js';
import { type HostContext, pathFor, userDataDir } from '../shared/jupyter-paths.js';
import { requirePackageRoot } from '../shared/package.js';
import { runCommand } from '../shared/process.js';

export type InstallScope = { kind: 'user' } | { kind: 'prefix'; prefix: string } | { kind: 'sys-prefix' };

/** The CLI flags as commander hands them over. */
export interface ScopeFlags {
  user?: boolean;
  prefix?: string;
  sysPrefix?: boolean;
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
    const result = await runCommand(python, ['-c', 'import sys; print(sys.prefix)'], { env, timeoutMs: 30_000 });
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

/** The built CLI (tsc's output): what the llmspell kernelspec's argv runs. */
export function defaultCliPath(root: string = requirePackageRoot()): string {
  return path.join(root, 'dist', 'src', 'cli', 'main.js');
}

/**
 * The bundled CLI (scripts/bundle.mjs): what the router kernelspec's argv runs, since a router
 * is started for every notebook and tsc's output loads module by module (issue #12 item 1). The
 * llmspell kernelspec stays on defaultCliPath: llmspell's own start is what its users wait for.
 */
export function defaultRouterEntry(root: string = requirePackageRoot()): string {
  return path.join(root, 'dist', 'bundle', 'main.js');
}

/**
 * The kernel stub (native/kernel-stub.c, built by scripts/build-stub.mjs when a C compiler is
 * there): in shared mode the router kernelspec runs it in front of the router's command line, and
 * it hands each notebook's session to the per-user router host (issue #12 item 5).
 */
export function defaultStubPath(root: string = requirePackageRoot()): string {
  return path.join(root, 'dist', 'native', 'kernel-stub');
}

/** Where the logo files ship: the package's kernelspec/ folder. */
export function defaultResourcesDir(root: string = requirePackageRoot()): string {
  return path.join(root, 'kernelspec');
}
