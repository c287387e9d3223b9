import { constants } from 'node:fs';
import { access, lstat, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadFleetConfig } from '../../fleet/config.js';
import { describeLimits, hasLimits } from '../../fleet/limits.js';
import { chooseMechanism, inspectLimitSupport } from '../../fleet/limits/enforce.js';
import { managerSocketPath } from '../../fleet/manager/files.js';
import type { ManagerInfo } from '../../fleet/manager/protocol.js';
import { expandHome } from '../../fleet/paths.js';
import { planLaunch } from '../../fleet/plan.js';
import { findExecutable } from '../../shared/which.js';
import { containerChecks } from '../container-checks.js';
import { providerConfig } from '../../adapters/llmspell/provider-config.js';
import { usesLlmspellAdapter } from '../../fleet/adapter-plan.js';
import type { FleetConfig, LaunchPlan, RuntimeConfig } from '../../fleet/types.js';
import { kubeChecks } from '../doctor-kube-checks.js';
import { describeError, isFleetError } from '../../shared/errors.js';
import { runCommand } from '../../shared/process.js';
import {
  doctorExitCode,
  formatDoctor,
  homeCheck,
  limitsCheck,
  llmspellChecks,
  providerCheck,
  runtimeCheck,
  socketCheck,
  type Check,
  type FileFacts,
} from '../doctor-checks.js';
import { action, fleetContext, withCommonOptions, withManager, writeJson, type CommonFlags, type FleetContext } from './fleet-shared.js';

const PROBE_TIMEOUT_MS = 10_000;

async function facts(path: string, follow: boolean): Promise<FileFacts | undefined> {
  try {
    const s = follow ? await stat(path) : await lstat(path);
    return { isDirectory: s.isDirectory(), isSocket: s.isSocket(), mode: s.mode & 0o777, uid: s.uid };
  } catch {
    return undefined;
  }
}

/** The PATH a backend gets when no plan could be made: config's PATH, else the caller's. */
function fallbackPath(config: FleetConfig, runtime: string, env: FleetContext['env']): string | undefined {
  return config.runtimes[runtime]?.env?.PATH ?? config.providers[config.default_provider]?.env?.PATH ?? env.PATH;
}

async function llmspellVersion(exe: string, env: FleetContext['env']): Promise<string | undefined> {
  try {
    const { stdout } = await runCommand(exe, ['--version'], { env, timeoutMs: PROBE_TIMEOUT_MS });
    return stdout.trim().split('\n')[0];
  } catch {
    return undefined;
  }
}

async function checkRuntime(name: string, config: FleetConfig, ctx: FleetContext): Promise<Check[]> {
  const rt = config.runtimes[name] ?? {};
  const configFile = config.source ?? join(ctx.home, 'fleet.toml');
  const base = { name, isDefault: name === config.default_runtime, provider: config.default_provider, configFile, kernelspec: rt.kernelspec };
  let command: string | undefined;
  let pathValue: string | undefined;
  let planError: string | undefined;
  let connection: string | undefined = rt.connection;
  let adapter: LaunchPlan['adapter'];
  let container: LaunchPlan['container'];
  let kube: LaunchPlan['kube'];
  try {
    const plan = await planLaunch({
      requirement: { runtime: name, provider: config.default_provider },
      config,
      home: ctx.home,
      kernelId: 'doctor-check',
      env: ctx.env,
    });
    adapter = plan.adapter;
    container = plan.container;
    kube = plan.kube;
    command = adapter?.llmspellArgv[0] ?? plan.argv[0];
    pathValue = plan.env.PATH ?? ctx.env.PATH;
    connection = plan.connection;
  } catch (error) {
    if (!isFleetError(error)) throw error;
    planError = error.message;
    const first = rt.argv?.[0];
    if (first !== undefined && !first.includes('{')) command = first;
    pathValue = fallbackPath(config, name, ctx.env);
  }
  // A container's or pod's program is in its image (the container checks look at that), not on this host.
  const image = container?.image ?? kube?.image;
  const resolved = command === undefined ? undefined : image !== undefined ? `${command} in ${image}${kube !== undefined ? ` (pods in namespace ${kube.namespace})` : ''}` : await findExecutable(command, pathValue);
  const checks = [runtimeCheck({ ...base, command, resolved, planError, connection })];
  if (adapter !== undefined) {
    const version = resolved === undefined ? undefined : await llmspellVersion(resolved, ctx.env);
    checks.push(
      ...llmspellChecks({
        runtime: name,
        ...(resolved !== undefined ? { resolved } : {}),
        ...(version !== undefined ? { version } : {}),
        isolation: adapter.isolation,
        ...(adapter.isolationNote !== undefined ? { isolationNote: adapter.isolationNote } : {}),
      }),
    );
  }
  if (rt.launcher === 'kubernetes') checks.push(...(await kubeRuntimeChecks(name, rt, kube, base, ctx)));
  return checks;
}

/** The cluster a kubernetes runtime names, asked for real (client-node is loaded only here). */
async function kubeRuntimeChecks(name: string, rt: RuntimeConfig, kube: LaunchPlan['kube'], base: { isDefault: boolean; configFile: string }, ctx: FleetContext): Promise<Check[]> {
  const kubeconfig = kube?.kubeconfig ?? (rt.kubeconfig !== undefined ? resolve(expandHome(rt.kubeconfig, ctx.env.HOME || undefined)) : undefined);
  const context = kube?.context ?? rt.context;
  const namespace = kube?.namespace ?? rt.namespace ?? 'default';
  const { probeKube } = await import('../../fleet/launchers/kube/access-probe.js');
  const probe = rt.image === undefined ? undefined : await probeKube({ ...(kubeconfig !== undefined ? { kubeconfig } : {}), ...(context !== undefined ? { context } : {}) }, namespace);
  return kubeChecks({ runtime: name, ...base, ...(rt.image !== undefined ? { image: rt.image } : {}), ...(probe !== undefined ? { probe } : {}) });
}

function withNotice(notice: string | undefined): { generatedNotice?: string } {
  return notice === undefined ? {} : { generatedNotice: notice };
}

async function checkProviders(config: FleetConfig, ctx: FleetContext): Promise<Check[]> {
  const needing = Object.entries(config.runtimes)
    // Behind the adapter, `--config {config}` falls back to a config the adapter writes (or a named profile).
    .filter(([, rt]) => rt.argv?.some((a) => a.includes('{config}')) === true && !usesLlmspellAdapter(rt))
    .map(([name]) => name);
  const configFile = config.source ?? join(ctx.home, 'fleet.toml');
  return Promise.all(
    Object.entries(config.providers).map(async ([name, p]) => {
      const file = p.config === undefined ? undefined : resolve(expandHome(p.config, ctx.env.HOME || undefined));
      return providerCheck({
        name,
        isDefault: name === config.default_provider,
        configFile: file,
        configExists: file !== undefined && (await facts(file, true)) !== undefined,
        envKeys: Object.keys(p.env ?? {}),
        runtimesNeedingConfig: needing,
        ...(p.profile !== undefined ? { profile: p.profile } : {}),
        ...withNotice(providerConfig(name, { ...ctx.env, ...(p.env ?? {}) }).notice),
        fleetConfig: configFile,
      });
    }),
  );
}

async function checkZeromq(): Promise<Check> {
  try {
    const zmq = await import('zeromq');
    return { name: 'zeromq', status: 'OK', detail: `loads (libzmq ${zmq.version})`, critical: true };
  } catch (error) {
    return { name: 'zeromq', status: 'FAIL', detail: `does not load: ${describeError(error)}`, fix: 'reinstall llmspell-fleet so npm rebuilds or downloads zeromq for this platform', critical: true };
  }
}

async function checkPython(ctx: FleetContext): Promise<Check[]> {
  const python = await findExecutable('python3', ctx.env.PATH);
  const checks: Check[] = [];
  if (python === undefined) {
    checks.push({ name: 'python', status: 'FAIL', detail: 'python3 not found on PATH', fix: 'install Python 3 (needed for Python kernels and Jupyter clients)' });
  } else {
    try {
      const { stdout } = await runCommand(python, ['-c', 'import jupyter_client; print(jupyter_client.__version__)'], { env: ctx.env, timeoutMs: PROBE_TIMEOUT_MS });
      checks.push({ name: 'python', status: 'OK', detail: `${python}, jupyter_client ${stdout.trim()}` });
    } catch {
      checks.push({ name: 'python', status: 'WARN', detail: `${python} cannot import jupyter_client`, fix: `${python} -m pip install jupyter_client ipykernel` });
    }
  }
  const jupyter = await findExecutable('jupyter', ctx.env.PATH);
  checks.push(
    jupyter === undefined
      ? { name: 'jupyter', status: 'WARN', detail: 'jupyter not found on PATH', fix: 'pip install jupyterlab (or notebook, jupyter_console) to use the fleet from a front end' }
      : { name: 'jupyter', status: 'OK', detail: jupyter },
  );
  return checks;
}

async function pingManager(ctx: FleetContext): Promise<ManagerInfo | undefined> {
  try {
    return await withManager(ctx, (client) => client.request<ManagerInfo>({ op: 'ping' }), { autostart: false });
  } catch {
    return undefined;
  }
}

/** Which mechanism would enforce limits for backends this user's manager starts (the probe creates nothing). */
async function checkLimits(config: FleetConfig, ctx: FleetContext): Promise<Check> {
  const configured: string[] = [];
  for (const [kind, tables] of [['runtimes', config.runtimes], ['providers', config.providers]] as const) {
    for (const [name, table] of Object.entries(tables)) if (hasLimits(table)) configured.push(`${kind}.${name}: ${describeLimits(table)}`);
  }
  const chosen = chooseMechanism({ memory_mb: 1, cpus: 1, pids: 1, cpu_seconds: 1 }, await inspectLimitSupport(ctx.env));
  return limitsCheck({ configured, ...chosen });
}

/** Every check, in the order shown. Starts nothing (the manager is only pinged if its socket exists). */
async function runDoctor(ctx: FleetContext): Promise<Check[]> {
  const uid = process.getuid?.();
  const checks: Check[] = [homeCheck(ctx.home, await facts(ctx.home, false), uid)];
  const socket = managerSocketPath(ctx.home);
  const socketFacts = await facts(socket, false);
  checks.push(socketCheck(socket, socketFacts, uid, socketFacts === undefined ? undefined : await pingManager(ctx)));
  checks.push(await checkZeromq());
  let config: FleetConfig | undefined;
  try {
    config = await loadFleetConfig({ env: ctx.env });
    checks.push({ name: 'config', status: 'OK', detail: config.source ?? `built-in defaults (no ${join(ctx.home, 'fleet.toml')})` });
  } catch (error) {
    if (!isFleetError(error)) throw error;
    checks.push({ name: 'config', status: 'FAIL', detail: error.message, critical: true });
  }
  if (config !== undefined) {
    const names = Object.keys(config.runtimes).sort((a, b) => Number(b === config.default_runtime) - Number(a === config.default_runtime) || a.localeCompare(b));
    for (const name of names) checks.push(...(await checkRuntime(name, config, ctx)));
    checks.push(...(await containerChecks(config, ctx.env.PATH)));
    checks.push(...(await checkProviders(config, ctx)));
    checks.push(await checkLimits(config, ctx));
  }
  checks.push(...(await checkPython(ctx)));
  return checks;
}

export function registerDoctor(program: Command): void {
  withCommonOptions(program.command('doctor'))
    .description('check which runtimes can start here and why not, plus the fleet home, manager socket, zeromq, python and jupyter; exits 1 if the default runtime cannot start')
    .action(
      action(async (flags: CommonFlags) => {
        const ctx = fleetContext(flags);
        const checks = await runDoctor(ctx);
        const code = doctorExitCode(checks);
        if (ctx.json) writeJson({ ok: code === 0, checks });
        else process.stdout.write(formatDoctor(checks));
        if (code !== 0) {
          const failed = checks.filter((c) => c.critical === true && c.status === 'FAIL').map((c) => c.name);
          process.stderr.write(`llmspell-fleet: cannot start the default runtime here (failed: ${failed.join(', ')}); see the fix lines above\n`);
          process.exitCode = code;
        }
      }),
    );
}
