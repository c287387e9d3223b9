import { randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { FleetError } from '../shared/errors.js';
import { substituteKernelEnv } from '../shared/kernel-env.js';
import { isSafeName } from '../shared/names.js';
import { packageRoot } from '../shared/package.js';
import { findExecutable } from '../shared/which.js';
import { DEFAULT_STARTUP_TIMEOUT_SECONDS } from './defaults.js';
import { findKernelspec, preferPrefixInterpreter, type FindKernelspecOptions, type FoundKernelspec } from './kernelspecs.js';
import { backendDir, configPath, expandHome, kernelCopyDir, logDir } from './paths.js';
import { checkRequirement } from './resolve.js';
import { adapterArgv, llmspellConnectionFile, llmspellProviderConfigFile, usesLlmspellAdapter, networkIsolation, providerEnv, withProviderArgs } from './adapter-plan.js';
import { cliEntry } from './manager/autostart.js';
import { effectiveLimits } from './limits.js';
import { expandArgv } from './template.js';
import { kubePlanFor, podCurve } from './launchers/kube/kube-plan.js';
import { podKernelFile } from './launchers/kube/spec.js';
import type { FleetConfig, LaunchPlan, ProviderConfig, RuntimeConfig } from './types.js';
import type { InterruptMode, Requirement } from '../shared/requirement.js';

type Env = Record<string, string | undefined>;

export interface PlanOptions {
  requirement: Requirement;
  config: FleetConfig;
  /** Fleet home (see fleetHome()); connection and log files go below it. */
  home: string;
  kernelId?: string;
  /** The environment the router runs in: PATH, HOME and the Jupyter path come from here. Default process.env. */
  env?: Env;
  /** Kernelspec lookup; swap in a fixed answer where running Jupyter is not wanted. */
  findSpec?: (name: string, options: FindKernelspecOptions) => Promise<FoundKernelspec>;
}

/** `<runtime>-<provider>-<8 hex>`: readable in `ps` and file listings, unique enough per user. */
export function newKernelId(req: Requirement): string {
  return `${req.runtime}-${req.provider}-${randomBytes(4).toString('hex')}`;
}

/**
 * Programs this package can bring as optional dependencies (tslab for the javascript runtime).
 * A runtime's program is looked up on PATH like any other; only when it is not there is the
 * bundled one used, by absolute path, so nothing is prepended to a backend's PATH.
 */
const BUNDLED: Readonly<Record<string, readonly string[]>> = { tslab: ['node_modules', 'tslab', 'bin', 'tslab'] };

export async function resolveBundled(argv: string[], env: Env): Promise<string[]> {
  const [program, ...rest] = argv;
  const bundled = program === undefined ? undefined : BUNDLED[program];
  if (bundled === undefined || (await findExecutable(program as string, env.PATH)) !== undefined) return argv;
  const root = packageRoot();
  const path = root === undefined ? undefined : join(root, ...bundled);
  return path !== undefined && existsSync(path) ? [path, ...rest] : argv;
}

/** Absolute path of the provider's llmspell config, or undefined when the provider has none. */
async function providerConfigFile(name: string, provider: ProviderConfig, env: Env, where: string): Promise<string | undefined> {
  if (provider.config === undefined) return undefined;
  const file = resolve(expandHome(provider.config, env.HOME || undefined));
  try {
    await access(file);
  } catch {
    throw new FleetError('BAD_CONFIG', `provider "${name}" config file ${file} does not exist: create it or change providers.${name}.config in ${where}`, {
      provider: name,
      file,
    });
  }
  return file;
}

interface Launchable {
  argv: string[];
  env: Record<string, string>;
  interruptMode: InterruptMode;
  connection: LaunchPlan['connection'];
  adapter?: LaunchPlan['adapter'];
  container?: LaunchPlan['container'];
  kube?: LaunchPlan['kube'];
}

async function fromKernelspec(rt: RuntimeConfig, options: PlanOptions, connectionFile: string): Promise<Launchable> {
  const env = options.env ?? process.env;
  const found = await (options.findSpec ?? findKernelspec)(rt.kernelspec as string, { env });
  const argv = expandArgv(await preferPrefixInterpreter(found), { connection_file: connectionFile, resource_dir: found.dir }, {
    where: `${found.dir}/kernel.json argv`,
    strict: false,
  });
  return {
    argv,
    env: substituteKernelEnv(found.spec.env ?? {}, env),
    interruptMode: rt.interrupt_mode ?? found.spec.interrupt_mode ?? 'signal',
    connection: 'router-writes',
  };
}

/** Turn a checked requirement into everything the launcher needs. Reads files, starts no backend. */
export async function planLaunch(options: PlanOptions): Promise<LaunchPlan> {
  const { requirement: req, config, home } = options;
  const env = options.env ?? process.env;
  const where = config.source ?? configPath(env);
  checkRequirement(req, config, { configPath: where });
  const rt = config.runtimes[req.runtime] as RuntimeConfig;
  const provider = config.providers[req.provider] as ProviderConfig;
  const kernelId = options.kernelId ?? newKernelId(req);
  if (!isSafeName(kernelId)) {
    throw new FleetError('BAD_CONFIG', `kernel id "${kernelId}" is not a safe file name; use letters, digits, "_", "-", "."`, { kernelId });
  }
  const absHome = isAbsolute(home) ? home : resolve(home);
  const connectionFile = join(backendDir(absHome), `${kernelId}.json`);
  const kernelFile = rt.launcher === 'container' && rt.curve === true ? kernelCopyOf(connectionFile) : connectionFile;
  // Pod backends are encrypted unless the runtime says curve = false (kube-plan.ts podCurve).
  const curve = rt.curve === true || (rt.launcher === 'kubernetes' && podCurve(rt));

  let launch: Launchable;
  if (rt.kernelspec !== undefined) {
    launch = await fromKernelspec(rt, options, connectionFile);
  } else {
    const viaAdapter = usesLlmspellAdapter(rt);
    const inPod = rt.launcher === 'kubernetes';
    const providerArgs = viaAdapter ? withProviderArgs(rt.argv ?? [], provider, llmspellProviderConfigFile(connectionFile)) : { argv: rt.argv ?? [], generate: false };
    // A host file is not in the pod: only the connection file is (the mounted Secret).
    const config = inPod ? undefined : await providerConfigFile(req.provider, provider, env, where);
    const argv = expandArgv(
      providerArgs.argv,
      {
        connection_file: inPod ? podKernelFile({ kernelCopy: curve }) : viaAdapter ? llmspellConnectionFile(connectionFile) : kernelFile,
        kernel_id: kernelId,
        runtime: req.runtime,
        provider: req.provider,
        config,
        resource_dir: undefined,
      },
      {
        where: `runtimes.${req.runtime}.argv`,
        hints: {
          config: inPod
            ? `a pod cannot read the provider's config file on this host; remove {config} from runtimes.${req.runtime}.argv in ${where} (put the file in the image)`
            : `provider "${req.provider}" has no config file; set providers.${req.provider}.config = "/path/to/llmspell.toml" in ${where}`,
          resource_dir: `only kernelspec runtimes have a resource dir; remove it from runtimes.${req.runtime}.argv in ${where}`,
        },
      },
    );
    launch = inPod
      ? { argv, env: {}, interruptMode: 'message', connection: 'router-writes', kube: kubePlanFor({ rt, req, limits: effectiveLimits(options.config, req), home: absHome, userHome: env.HOME || undefined, where }) }
      : rt.launcher === 'container'
      ? inContainer({ rt, argv, home: absHome, config: options.config, req, where, kernelFile, files: [...(kernelFile === connectionFile ? [connectionFile] : []), ...(config !== undefined && argv.some((a) => a.includes(config)) ? [config] : [])] })
      : viaAdapter
      ? await behindAdapter({ rt, argv, connectionFile, logFile: join(logDir(absHome), `${kernelId}.log`), runtime: req.runtime, where, env, provider: req.provider, generateConfig: providerArgs.generate })
      : { argv: await resolveBundled(argv, env), env: {}, interruptMode: rt.interrupt_mode ?? 'signal', connection: rt.connection ?? 'router-writes' };
  }

  if (curve && launch.connection !== 'router-writes') {
    throw new FleetError('BAD_CONFIG', `runtimes.${req.runtime}.curve = true needs a backend that reads the connection file the manager writes, but this one writes its own (${launch.adapter !== undefined ? 'llmspell adapter' : 'connection = "kernel-writes"'}); remove curve in ${where}`, {
      runtime: req.runtime,
    });
  }
  const configured = { ...(provider.env ?? {}), ...(rt.env ?? {}) };
  return {
    kernelId,
    requirement: { runtime: req.runtime, provider: req.provider, ...(req.group !== undefined ? { group: req.group } : {}) },
    argv: launch.argv,
    // Only what config adds; the launcher layers this over process.env.
    env: { ...launch.env, ...configured },
    connection: launch.connection,
    interruptMode: launch.interruptMode,
    connectionFile,
    logFile: join(logDir(absHome), `${kernelId}.log`),
    startupTimeoutMs: (rt.startup_timeout ?? DEFAULT_STARTUP_TIMEOUT_SECONDS) * 1000,
    secretEnvKeys: launch.adapter !== undefined ? [...new Set([...Object.keys(launch.env), ...Object.keys(configured)])] : Object.keys(configured),
    ...(launch.adapter !== undefined ? { adapter: launch.adapter } : {}),
    ...(launch.container !== undefined ? { container: launch.container } : {}),
    ...(curve ? { curve: true } : {}),
    ...(kernelFile !== connectionFile ? { kernelConnectionFile: kernelFile } : {}),
    ...(launch.kube !== undefined ? { kube: launch.kube } : {}),
  };
}

/** Pure: the kernel's own copy of its connection file, alone in a directory a container may write to. */
export function kernelCopyOf(connectionFile: string): string {
  return join(kernelCopyDir(connectionFile), basename(connectionFile));
}

/** launcher = "container": argv runs in the image as written; the files it names are mounted read-only. */
function inContainer(input: { rt: RuntimeConfig; argv: string[]; home: string; config: FleetConfig; req: Requirement; where: string; files: string[]; kernelFile: string }): Launchable {
  const { rt, req } = input;
  const limits = effectiveLimits(input.config, req);
  if (limits.cpu_seconds !== undefined) {
    throw new FleetError(
      'BAD_CONFIG',
      `cpu_seconds cannot be enforced in a container (runtime "${req.runtime}" has launcher = "container"); remove cpu_seconds from runtimes.${req.runtime} / providers.${req.provider} in ${input.where}, or use cpus`,
      { runtime: req.runtime, provider: req.provider },
    );
  }
  return {
    argv: input.argv,
    env: {},
    interruptMode: rt.interrupt_mode ?? 'signal',
    connection: 'router-writes',
    container: {
      image: rt.image as string,
      engine: rt.container_engine ?? 'auto',
      limits,
      home: input.home,
      readOnlyFiles: input.files,
      ...(input.files.includes(input.kernelFile) ? {} : { writableDir: dirname(input.kernelFile) }),
    },
  };
}

interface AdapterInput {
  rt: RuntimeConfig;
  argv: string[];
  connectionFile: string;
  logFile: string;
  runtime: string;
  provider: string;
  where: string;
  env: Env;
  generateConfig: boolean;
}

/**
 * llmspell behind the adapter: the adapter writes the clients' connection file (ipc sockets when
 * llmspell gets a private network namespace, so nothing else on the host can reach its ports),
 * takes interrupts as messages (a SIGINT would kill llmspell), and gets the provider's keys.
 */
async function behindAdapter(input: AdapterInput): Promise<Launchable> {
  const { rt } = input;
  const isolation = rt.isolate === 'off' ? { ok: false, why: `isolate = "off" for runtimes.${input.runtime}` } : await networkIsolation();
  if (rt.isolate === 'on' && !isolation.ok) {
    throw new FleetError('BAD_CONFIG', `runtimes.${input.runtime}.isolate = "on" but no private network namespace can be made here: ${isolation.why}; set isolate = "auto" or "off" in ${input.where}`, {
      runtime: input.runtime,
    });
  }
  const argv = adapterArgv({
    node: process.execPath,
    cli: cliEntry(),
    connectionFile: input.connectionFile,
    logFile: input.logFile,
    runtime: rt,
    llmspellArgv: input.argv,
    isolate: isolation.ok,
    startupTimeoutSeconds: rt.startup_timeout ?? DEFAULT_STARTUP_TIMEOUT_SECONDS,
    ...(input.generateConfig ? { generateConfigFor: input.provider } : {}),
  });
  return {
    argv,
    env: providerEnv(input.provider, input.env),
    interruptMode: 'message',
    connection: 'kernel-writes',
    adapter: { llmspellArgv: input.argv, isolation: isolation.ok ? 'netns' : 'none', ...(isolation.why !== undefined ? { isolationNote: isolation.why } : {}) },
  };
}
