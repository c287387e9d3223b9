/**
 * Starting one backend for the manager: plan, spawn, then wait until it answers kernel_info,
 * so that `find` and `acquire` only ever hand out a backend that is ready to talk.
 */
import type { BackendExit } from '../../shared/backend.js';
import { FleetError } from '../../shared/errors.js';
import { describeExit } from '../../shared/exit.js';
import type { Logger } from '../../shared/log.js';
import { BackendProcess } from '../backend-process.js';
import { planLaunch } from '../plan.js';
import { readLogTail, spawnError } from '../spawn.js';
import { effectiveLimits, hasLimits } from '../limits.js';
import { LimitEnforcement } from '../limits/enforce.js';
import { findExecutable } from '../../shared/which.js';
import type { FleetConfig, LaunchPlan } from '../types.js';
import type { Requirement } from '../../shared/requirement.js';
import { ManagedBackend } from './entry.js';
import { clientConnection } from '../../wire/connection-file.js';
import type { BackendHandle } from './protocol.js';
import { procStartTime } from './proc.js';

type Env = Record<string, string | undefined>;

export interface LaunchBackendOptions {
  requirement: Requirement;
  config: FleetConfig;
  home: string;
  env: Env;
  logger: Logger;
  heartbeatGraceMs?: number;
  cwd?: string;
  /** Called once the process runs, before it answers: the manager records it at once. */
  onSpawned(backend: ManagedBackend): void;
}

/**
 * Pure: what the manager changes in a plan. Backends must outlive the manager (a restarted
 * manager adopts them), so they are not told to watch its pid: ipykernel exits when the
 * process named by JPY_PARENT_PID goes away, and treats an empty value as "no parent".
 */
export function managerPlan(plan: LaunchPlan): LaunchPlan {
  return { ...plan, env: { ...plan.env, JPY_PARENT_PID: '' } };
}

/** Resolves with a ready backend; on failure the backend is stopped before the error is thrown. */
export async function launchBackend(options: LaunchBackendOptions): Promise<ManagedBackend> {
  const { logger: log } = options;
  const planned = await planLaunch({ requirement: options.requirement, config: options.config, home: options.home, env: options.env });
  const plan = managerPlan(options.cwd !== undefined ? { ...planned, cwd: options.cwd } : planned);
  const limits = effectiveLimits(options.config, plan.requirement);
  // A container's engine applies the limits itself (container-argv.ts): a cgroup made here would hold only the engine client.
  // So does a pod's kubelet; the stand-in of a pod backend holds nothing to limit.
  const enforced = plan.container === undefined && plan.kube === undefined ? limits : {};
  const enforcement = await LimitEnforcement.prepare({ kernelId: plan.kernelId, limits: enforced, env: options.env, logger: log });
  let child: BackendProcess;
  try {
    if (enforcement.mechanism !== 'none') await checkExecutable(plan, options.env);
    child = await BackendProcess.launch({ ...plan, argv: enforcement.wrap(plan.argv) }, { logger: log });
  } catch (error) {
    await enforcement.finish({ exitCode: null, signal: null, requested: true }, log);
    throw error;
  }
  const backend = ManagedBackend.spawned(
    child,
    {
      kernelId: plan.kernelId,
      pid: child.pid,
      procStart: procStartTime(child.pid),
      requirement: plan.requirement,
      interruptMode: plan.interruptMode,
      connectionFile: plan.connectionFile,
      logFile: plan.logFile,
      startedAt: Date.now(),
      connection: child.connection,
      state: 'starting',
      cwd: plan.cwd,
      ...(child.container !== undefined ? { container: child.container } : {}),
      ...(child.kube !== undefined ? { kube: child.kube } : {}),
      providerKeys: plan.adapter !== undefined,
      ...(hasLimits(enforced) ? { limits: enforced } : {}),
    },
    options.home,
    enforcement,
    log,
  );
  options.onSpawned(backend);
  try {
    await waitReady(backend, plan, options.heartbeatGraceMs, log);
  } catch (error) {
    await backend.stop({ graceMs: 500, killMs: 3000 }, log);
    throw error;
  }
  backend.state = 'ready';
  return backend;
}

async function waitReady(backend: ManagedBackend, plan: LaunchPlan, heartbeatGraceMs: number | undefined, log: Logger): Promise<void> {
  const exited = new AbortController();
  void backend.gone.then((gone) => exited.abort(gone));
  const context = { kernelId: plan.kernelId, runtime: plan.requirement.runtime, provider: plan.requirement.provider, pid: backend.pid, logFile: plan.logFile };
  // Loaded here, not with the manager: the probe brings zeromq and the Jupyter client, about
  // half of the manager's module load, which a cold start's first spawn need not wait for.
  const { waitUntilAnswering } = await import('./probe.js');
  let evidence: Awaited<ReturnType<typeof waitUntilAnswering>>;
  try {
    evidence = await waitUntilAnswering(backend.connection, { timeoutMs: plan.startupTimeoutMs, signal: exited.signal, heartbeatGraceMs });
  } catch (error) {
    if (!exited.signal.aborted) throw error;
    const gone = exited.signal.reason as BackendExit;
    const how = describeExit({ exitCode: gone.exitCode, signal: gone.signal });
    // The last lines it wrote usually say why (a missing module, a bad flag): put them in front of the user.
    const tail = (await readLogTail(plan.logFile, { lines: 5 })).trim();
    const said = tail ? `; its last output:\n${tail}\n` : '; ';
    throw new FleetError('BACKEND_EXITED', `${describe(plan)} ${how} before it answered kernel_info${said}see ${plan.logFile}`, {
      ...context,
      exitCode: gone.exitCode,
      signal: gone.signal,
      stderrTail: tail,
    });
  }
  if (evidence === 'timeout') {
    throw new FleetError(
      'READY_TIMEOUT',
      `${describe(plan)} did not answer kernel_info within ${plan.startupTimeoutMs} ms; it was stopped. ` +
        `Raise runtimes.${plan.requirement.runtime}.startup_timeout if it is just slow, or read ${plan.logFile}` +
        // A kernel that ignores the keys binds in clear, and no curve client gets through to it.
        (plan.curve === true ? `; with curve = true the kernel must read curve_publickey/curve_secretkey from its connection file (ipykernel 7.4 does): if it does not, remove curve from runtimes.${plan.requirement.runtime}` : ''),
      { ...context, waitedFor: 'kernel_info_reply', timeoutMs: plan.startupTimeoutMs },
    );
  }
  if (evidence === 'heartbeat') {
    log.warn({ kernelId: plan.kernelId }, 'backend answers heartbeats but not kernel_info on shell; treating it as ready');
  }
}

/**
 * Under a limit wrapper the backend's own executable is exec'd by the wrapper, so a missing one
 * would show as the wrapper's exit 127: it is looked up first, for the same error as without limits.
 */
async function checkExecutable(plan: LaunchPlan, env: Env): Promise<void> {
  const file = plan.argv[0]!;
  if ((await findExecutable(file, plan.env.PATH ?? env.PATH)) !== undefined) return;
  const error: NodeJS.ErrnoException = Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
  throw spawnError(error, { file, cwd: plan.cwd, configKey: `runtimes.${plan.requirement.runtime}.argv (or its kernelspec)` });
}

function describe(plan: LaunchPlan): string {
  return `${plan.requirement.runtime}/${plan.requirement.provider} backend (kernel ${plan.kernelId})`;
}

/**
 * What a client is handed: the record and where to connect (with the HMAC key every client
 * signs with, but never the kernel's curve secret key: a client needs only its public key).
 */
export function handle(backend: ManagedBackend): BackendHandle {
  return { record: backend.record(), connection: clientConnection(backend.connection) };
}
