/**
 * Launch-time resolution for one router: which backend it asks for first, through which
 * directory, with which limits. Everything about the kernel process (environment, working
 * directory, pid) comes in as options, so a router host session resolves exactly as a
 * standalone router started in that kernel's place would.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadFleetConfig } from '../fleet/config.js';
import { defaultFleetConfig } from '../fleet/defaults.js';
import { FleetDirectory } from '../fleet/fleet-directory.js';
import { notebookPathFromEnv, readNotebookRequirement } from '../fleet/notebook.js';
import { loadProjectRequirement } from '../fleet/project-file.js';
import { checkRequirement, launchLayers, resolveRequirement, type ResolveInput } from '../fleet/resolve.js';
import type { RouterLimits } from '../fleet/types.js';
import type { RequestResolver } from '../router/proxy.js';
import type { BackendDirectory } from '../router/types.js';
import { describeError } from '../shared/errors.js';
import type { Logger } from '../shared/log.js';
import type { ConnectionInfo } from '../wire/connection-file.js';
import { createRequestResolver } from './request-resolver.js';

type Env = Record<string, string | undefined>;

/** The router command's flags, as commander hands them over. */
export interface RouterFlags {
  connectionFile: string;
  specDir?: string;
  runtime?: string;
  provider?: string;
  local?: boolean;
  logLevel?: string;
}

export interface RouterPlan {
  directory: BackendDirectory;
  limits: RouterLimits;
  requirement: { runtime: string; provider: string };
  resolver?: RequestResolver;
}

export interface PlanOptions {
  flags: RouterFlags;
  connection: ConnectionInfo;
  home: string;
  logger: Logger;
  /** The kernel process's environment, working directory and pid. */
  env: Env;
  cwd: string;
  pid: number;
}

/** Pure: whether this router starts its own private backend instead of sharing the fleet's. */
export function isLocalRouter(flags: Pick<RouterFlags, 'local'>, env: Env): boolean {
  return flags.local === true || env.LLMSPELL_FLEET_MODE === 'local';
}

async function specMetadata(specDir: string | undefined): Promise<{ runtime?: unknown; provider?: unknown } | undefined> {
  if (!specDir) return undefined;
  try {
    const spec = JSON.parse(await readFile(join(specDir, 'kernel.json'), 'utf8')) as { metadata?: { llmspell?: object } };
    return spec.metadata?.llmspell as { runtime?: unknown; provider?: unknown } | undefined;
  } catch {
    return undefined;
  }
}

/**
 * Config and resolution errors must not kill the kernel before the client connects (it would
 * only see "kernel died"): the router starts and answers with the reason.
 */
export async function planRouter(options: PlanOptions): Promise<RouterPlan> {
  const { flags, connection, home, logger, env, cwd, pid } = options;
  try {
    // The four reads are independent: started together, awaited in this order, so the error
    // reported when several files are bad stays the same as when they were read one by one.
    const notebookPath = notebookPathFromEnv({ env, connectionInfo: connection, cwd });
    const reads = {
      config: loadFleetConfig({ env }),
      notebook: notebookPath ? readNotebookRequirement(notebookPath).then((n) => ({ path: notebookPath, ...n })) : Promise.resolve(undefined),
      project: loadProjectRequirement(cwd, { stopAt: env.HOME && env.HOME.length > 0 ? env.HOME : homedir() }),
      spec: specMetadata(flags.specDir),
    };
    for (const read of Object.values(reads)) read.catch(() => undefined);
    const config = await reads.config;
    const notebook = await reads.notebook;
    const project = await reads.project;
    const input: ResolveInput = { flags, env, specMetadata: await reads.spec, notebook, project, config };
    const resolved = resolveRequirement(input);
    checkRequirement(resolved, config);
    logger.info({ requirement: resolved, sources: resolved.sources, config: config.source ?? 'built-in defaults' }, 'launch requirement');
    // Imported only when used: a router of the fleet loads nothing that spawns backends.
    const directory = isLocalRouter(flags, env)
      ? new (await import('../fleet/local-directory.js')).LocalBackendDirectory({ config, home, logger, env })
      : new FleetDirectory({ home, env, logger, cwd, pid });
    return { directory, limits: config.router, requirement: resolved, resolver: createRequestResolver({ launch: launchLayers(input), config }) };
  } catch (error) {
    logger.error({ err: describeError(error) }, 'cannot plan a backend');
    return {
      directory: new (await import('../fleet/local-directory.js')).UnavailableDirectory(error as Error),
      limits: defaultFleetConfig().router,
      requirement: { runtime: flags.runtime ?? 'unknown', provider: flags.provider ?? 'unknown' },
    };
  }
}
