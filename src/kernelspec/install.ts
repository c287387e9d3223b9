/**
 * Writing and removing our kernelspec directory. Everything that can be decided without the
 * file system (name, spec, target dir) is decided first, so a bad option writes nothing.
 */
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { FleetError, describeError, isFleetError } from '../shared/errors.js';
import { type HostContext, currentHost } from '../shared/jupyter-paths.js';
import {
  type InstallScope,
  dataDirFor,
  defaultCliPath,
  defaultResourcesDir,
  defaultRouterEntry,
  defaultStubPath,
  detectSysPrefix,
  kernelDirFor,
} from './paths.js';
import {
  type LlmspellKernelOptions,
  buildLlmspellKernelSpec,
  resolveLlmspellKernelName,
} from './llmspell-spec.js';
import {
  type AliasOptions,
  type KernelSpecJson,
  buildKernelSpec,
  isFleetKernelSpec,
  resolveKernelName,
} from './spec.js';
import { type RouterMode, chooseRouterMode } from './router-mode.js';
import { stage } from './stage.js';

export { ROUTER_MODES, type RouterMode } from './router-mode.js';

interface TargetOptions extends AliasOptions {
  /** Default: the user's Jupyter data dir. */
  scope?: InstallScope;
  name?: string;
  host?: HostContext;
  /** The Python asked for sys.prefix (sys-prefix scope without VIRTUAL_ENV). Default `python3`. */
  python?: string;
  /**
   * Set for the plain llmspell kernelspec (default name "llmspell"), which runs one llmspell
   * behind the adapter; absent for the fleet's (router) kernelspec. Uninstall only reads whether it is set.
   */
  llmspell?: LlmspellKernelOptions;
}

export interface InstallOptions extends TargetOptions {
  displayName?: string;
  /** Absolute path of the node binary the kernelspec runs. Default: this process's. */
  nodePath?: string;
  /** Absolute path of the built CLI. Default: this package's dist/bundle/main.js for the router, dist/src/cli/main.js for llmspell. */
  cliPath?: string;
  /** Folder holding the logo files. Default: this package's kernelspec/. */
  resourcesDir?: string;
  /** How a router kernelspec runs: see RouterMode. Default: shared when the kernel stub was built. */
  routerMode?: RouterMode;
  /** Absolute path of the kernel stub. Default: this package's dist/native/kernel-stub. */
  stubPath?: string;
}

export type UninstallOptions = TargetOptions;

export interface InstallResult {
  name: string;
  kernelDir: string;
  spec: KernelSpecJson;
  /** Undefined for the llmspell kernelspec, which runs no router. */
  routerMode?: RouterMode;
}

export interface UninstallResult {
  name: string;
  kernelDir: string;
}

async function resolveDataDir(scope: InstallScope, host: HostContext, python?: string): Promise<string> {
  const sysPrefix = scope.kind === 'sys-prefix' ? await detectSysPrefix({ env: host.env, python }) : undefined;
  return dataDirFor(scope, host, sysPrefix);
}

type Existing = 'missing' | 'ours' | 'foreign';

async function inspectExisting(kernelDir: string): Promise<Existing> {
  try {
    await stat(kernelDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    return isFleetKernelSpec(JSON.parse(await readFile(path.join(kernelDir, 'kernel.json'), 'utf8')))
      ? 'ours'
      : 'foreign';
  } catch {
    // No kernel.json, or one we cannot parse: not something we wrote, so not ours to touch.
    return 'foreign';
  }
}

function foreignError(name: string, kernelDir: string, action: 'replace' | 'remove'): FleetError {
  return new FleetError(
    'FOREIGN_KERNELSPEC',
    `refusing to ${action} ${kernelDir}: it is not a kernelspec written by llmspell-fleet; pick another --name, or remove it with \`jupyter kernelspec remove ${name}\` if you are sure`,
    { name, kernelDir },
  );
}

function fsError(error: unknown, kernelDir: string, action: 'write' | 'remove'): FleetError {
  if (isFleetError(error)) return error;
  const where = action === 'write' ? `write the kernelspec to ${kernelDir}` : `remove ${kernelDir}`;
  return new FleetError(
    'INSTALL_FAILED',
    `could not ${where} (${describeError(error)}); check the permissions there, or use --user or --prefix DIR`,
    { kernelDir, errno: (error as NodeJS.ErrnoException).code },
    { cause: error },
  );
}

async function checkBuiltCli(cliPath: string, nodePath: string): Promise<void> {
  const paths = { CLI: cliPath, 'node binary': nodePath };
  for (const [what, file] of Object.entries(paths)) {
    if (!path.isAbsolute(file)) {
      throw new FleetError('BAD_INSTALL_OPTIONS', `the ${what} path ${file} is not absolute; Jupyter starts kernels from any directory`, {
        path: file,
      });
    }
  }
  try {
    await stat(cliPath);
  } catch (error) {
    throw new FleetError(
      'INSTALL_FAILED',
      `the built CLI is missing at ${cliPath}, so the kernelspec could not start; run \`npm run build\` first`,
      { cliPath },
      { cause: error },
    );
  }
}

function kernelNameFor(options: TargetOptions): string {
  if (options.llmspell === undefined) return resolveKernelName(options);
  if (options.runtime !== undefined || options.provider !== undefined) {
    throw new FleetError('BAD_INSTALL_OPTIONS', 'runtime and provider belong to fleet kernelspecs, not to the llmspell one', {
      runtime: options.runtime,
      provider: options.provider,
    });
  }
  return resolveLlmspellKernelName(options.name);
}

/** A relative --llmspell-config means relative to where install ran, not to where Jupyter starts the kernel. */
function withAbsoluteConfig(options: LlmspellKernelOptions, host: HostContext): LlmspellKernelOptions {
  return options.config === undefined ? options : { ...options, config: path.resolve(host.cwd, options.config) };
}

async function checkLlmspellConfig(config: string): Promise<void> {
  try {
    if ((await stat(config)).isFile()) return;
  } catch (error) {
    throw new FleetError(
      'BAD_INSTALL_OPTIONS',
      `the llmspell config ${config} cannot be read (${describeError(error)}); give an existing llmspell config file, or --llmspell-profile NAME`,
      { option: 'llmspellConfig', value: config },
      { cause: error },
    );
  }
  throw new FleetError('BAD_INSTALL_OPTIONS', `the llmspell config ${config} is not a file; give an llmspell config file, or --llmspell-profile NAME`, {
    option: 'llmspellConfig',
    value: config,
  });
}

/**
 * Installs (or replaces) our kernelspec. Like `jupyter kernelspec install`, an existing spec of
 * the same name is replaced, but only if we wrote it.
 */
export async function installKernelSpec(options: InstallOptions = {}): Promise<InstallResult> {
  const host = options.host ?? currentHost();
  const scope = options.scope ?? { kind: 'user' };
  const name = kernelNameFor(options);
  const nodePath = options.nodePath ?? process.execPath;
  const cliPath = options.cliPath ?? (options.llmspell === undefined ? defaultRouterEntry() : defaultCliPath());
  const routerMode = options.llmspell === undefined ? await chooseRouterMode(options) : undefined;
  const command = routerMode === 'shared' ? [options.stubPath ?? defaultStubPath(), nodePath, cliPath] : [nodePath, cliPath];
  const spec =
    options.llmspell === undefined
      ? buildKernelSpec({ command, displayName: options.displayName, runtime: options.runtime, provider: options.provider })
      : buildLlmspellKernelSpec({ command, displayName: options.displayName, ...withAbsoluteConfig(options.llmspell, host) });
  await checkBuiltCli(cliPath, nodePath);
  if (options.llmspell?.config !== undefined) await checkLlmspellConfig(path.resolve(host.cwd, options.llmspell.config));
  const dataDir = await resolveDataDir(scope, host, options.python);
  const kernelDir = kernelDirFor(dataDir, name, host.platform);
  try {
    if ((await inspectExisting(kernelDir)) === 'foreign') throw foreignError(name, kernelDir, 'replace');
    const staging = await stage({ dataDir, name, spec, resourcesDir: options.resourcesDir ?? defaultResourcesDir() });
    try {
      await mkdir(path.dirname(kernelDir), { recursive: true });
      await rm(kernelDir, { recursive: true, force: true });
      await rename(staging, kernelDir);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  } catch (error) {
    throw fsError(error, kernelDir, 'write');
  }
  return { name, kernelDir, spec, routerMode };
}

/** Removes a kernelspec we installed; a missing or foreign one is an error that says where we looked. */
export async function uninstallKernelSpec(options: UninstallOptions = {}): Promise<UninstallResult> {
  const host = options.host ?? currentHost();
  const scope = options.scope ?? { kind: 'user' };
  const name = kernelNameFor(options);
  const dataDir = await resolveDataDir(scope, host, options.python);
  const kernelDir = kernelDirFor(dataDir, name, host.platform);
  let existing: Existing;
  try {
    existing = await inspectExisting(kernelDir);
  } catch (error) {
    throw fsError(error, kernelDir, 'remove');
  }
  if (existing === 'missing') {
    throw new FleetError(
      'KERNELSPEC_NOT_FOUND',
      `no kernelspec named ${name} at ${kernelDir}, nothing removed; use the same --user/--prefix/--sys-prefix and --name as at install (\`jupyter kernelspec list\` shows where it is)`,
      { name, kernelDir },
    );
  }
  if (existing === 'foreign') throw foreignError(name, kernelDir, 'remove');
  try {
    await rm(kernelDir, { recursive: true });
  } catch (error) {
    throw fsError(error, kernelDir, 'remove');
  }
  return { name, kernelDir };
}
