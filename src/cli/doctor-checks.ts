/**
 * `doctor`'s verdicts, as pure functions of facts the command gathered (file modes, lookups,
 * launch plans). Each check says OK, WARN or FAIL, why, and for anything not OK how to fix it.
 */
import { delimiter, join } from 'node:path';
import { formatTable } from '../shared/table.js';

const LLMSPELL_BUILD = 'build llmspell from rs-llmspell (cargo build --release -p llmspell-cli; needs liblua5.4-dev and pkg-config) and put it on PATH';

export type CheckStatus = 'OK' | 'WARN' | 'FAIL';

export interface Check {
  name: string;
  status: CheckStatus;
  detail: string;
  fix?: string;
  /** A FAIL here makes doctor exit 1 (the default runtime cannot start). */
  critical?: boolean;
}

export { pathCandidates } from '../shared/which.js';

export interface FileFacts {
  isDirectory: boolean;
  isSocket: boolean;
  /** permission bits only (mode & 0o777) */
  mode: number;
  uid: number;
}

const octal = (mode: number) => mode.toString(8).padStart(3, '0');

/** The fleet home must be ours and 0700: it holds every backend's HMAC key. */
export function homeCheck(path: string, facts: FileFacts | undefined, ownUid: number | undefined): Check {
  const name = 'fleet home';
  if (facts === undefined) return { name, status: 'OK', detail: `${path} not created yet; made with mode 0700 on first use` };
  if (!facts.isDirectory) {
    return { name, status: 'FAIL', detail: `${path} is not a directory`, fix: `remove it, or set LLMSPELL_FLEET_HOME (or --home) to another directory` };
  }
  if (ownUid !== undefined && facts.uid !== ownUid) {
    return { name, status: 'FAIL', detail: `${path} belongs to uid ${facts.uid}, not to you (uid ${ownUid})`, fix: 'set LLMSPELL_FLEET_HOME (or --home) to a directory of your own' };
  }
  if (facts.mode !== 0o700) {
    return { name, status: 'FAIL', detail: `${path} has mode ${octal(facts.mode)}; others may read backend keys`, fix: `chmod 700 ${path}` };
  }
  return { name, status: 'OK', detail: `${path} (mode 700)` };
}

/** The manager's socket, if there is one: 0600 and ours; `answer` is the manager's ping reply, if one came. */
export function socketCheck(path: string, facts: FileFacts | undefined, ownUid: number | undefined, answer: { pid: number } | undefined): Check {
  const name = 'fleet manager';
  if (facts === undefined) return { name, status: 'OK', detail: 'not running; started on demand by routers and fleet commands' };
  if (!facts.isSocket) return { name, status: 'FAIL', detail: `${path} is not a socket`, fix: `remove ${path}` };
  if (ownUid !== undefined && facts.uid !== ownUid) {
    return { name, status: 'FAIL', detail: `${path} belongs to uid ${facts.uid}, not to you`, fix: 'set LLMSPELL_FLEET_HOME (or --home) to a directory of your own' };
  }
  if (facts.mode !== 0o600) {
    return { name, status: 'FAIL', detail: `${path} has mode ${octal(facts.mode)}; other users could drive your fleet`, fix: `chmod 600 ${path}, or stop the manager and let it start again` };
  }
  if (answer === undefined) {
    return { name, status: 'WARN', detail: `${path} is there but no manager answers on it (left over from a crash?)`, fix: 'nothing to do: the next fleet command replaces it' };
  }
  return { name, status: 'OK', detail: `running (pid ${answer.pid}), socket ${path} (mode 600)` };
}

export interface RuntimeFacts {
  name: string;
  isDefault: boolean;
  /** The provider the check planned with (the default one). */
  provider: string;
  connection?: string;
  kernelspec?: string;
  /** argv[0] of the launch, when known. */
  command?: string;
  /** Where `command` was found; undefined when it was looked for and not found. */
  resolved?: string;
  /** Why no launch could be planned (config, kernelspec, provider config file). */
  planError?: string;
  configFile: string;
}

/** Can this runtime start here, and if not, every reason we found. */
export function runtimeCheck(f: RuntimeFacts): Check {
  const name = `runtime ${f.name}${f.isDefault ? ' (default)' : ''}`;
  const critical = f.isDefault;
  const reasons: string[] = [];
  const fixes: string[] = [];
  if (f.planError !== undefined) reasons.push(f.planError);
  if (f.command !== undefined && f.resolved === undefined) {
    reasons.push(`${f.command} not found${f.command.includes('/') ? ' or not executable' : ' on the PATH the backend gets'}`);
    fixes.push(
      f.kernelspec !== undefined
        ? `fix argv[0] in kernelspec "${f.kernelspec}" (see \`jupyter kernelspec list\`)`
        : f.command === 'llmspell'
          ? `${LLMSPELL_BUILD}, or set runtimes.${f.name}.argv[0] to its absolute path in ${f.configFile}`
          : `install ${f.command}, or set runtimes.${f.name}.argv[0] to its absolute path in ${f.configFile}`,
    );
  }
  if (reasons.length > 0) {
    const check: Check = { name, status: 'FAIL', detail: reasons.join('; '), critical };
    if (fixes.length > 0) check.fix = fixes.join('; ');
    return check;
  }
  const via = f.kernelspec !== undefined ? `kernelspec ${f.kernelspec}, ` : '';
  return { name, status: 'OK', detail: `${f.resolved ?? f.command ?? '?'} (${via}${f.connection ?? 'router-writes'}, provider ${f.provider})`, critical };
}

export interface LlmspellFacts {
  runtime: string;
  /** Where llmspell was found; undefined when it is not on the backend's PATH. */
  resolved?: string;
  /** What `llmspell --version` printed, if it ran. */
  version?: string;
  isolation: 'netns' | 'none';
  isolationNote?: string;
}

/** llmspell behind the adapter: is it installed, which version, and who can reach its ports. */
export function llmspellChecks(f: LlmspellFacts): Check[] {
  // Not found is the runtime check's FAIL already, with the same fix.
  const found: Check[] =
    f.resolved === undefined ? [] : [{ name: 'llmspell', status: 'OK', detail: `${f.resolved}${f.version ? ` (${f.version})` : ''}, behind the llmspell adapter` }];
  const isolation: Check =
    f.isolation === 'netns'
      ? { name: 'llmspell isolation', status: 'OK', detail: 'private network namespace (unshare -rn): no other process on this host can reach llmspell; clients use ipc sockets in the fleet home' }
      : {
          name: 'llmspell isolation',
          status: 'WARN',
          detail: `none: llmspell's loopback ports accept code from any local user (llmspell checks no signature)${f.isolationNote ? `; ${f.isolationNote}` : ''}`,
          fix: 'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1) and install util-linux, or keep this machine single-user',
        };
  return [...found, isolation];
}

export interface ProviderFacts {
  name: string;
  isDefault: boolean;
  /** Absolute config file path, if the provider sets one. */
  configFile?: string;
  configExists: boolean;
  /** Names of env keys the provider sets (never values: they may be API keys). */
  envKeys: string[];
  /** Runtimes whose argv needs {config}. */
  runtimesNeedingConfig: string[];
  /** The llmspell built-in profile the provider names, used when there is no config file. */
  profile?: string;
  /** Without config or profile: the notice the adapter would give (no key), or undefined when it can configure the provider. */
  generatedNotice?: string;
  fleetConfig: string;
}

export function providerCheck(f: ProviderFacts): Check {
  const name = `provider ${f.name}${f.isDefault ? ' (default)' : ''}`;
  const env = f.envKeys.length > 0 ? `; env ${f.envKeys.join(', ')}` : '';
  if (f.configFile !== undefined && !f.configExists) {
    return { name, status: 'FAIL', detail: `config file ${f.configFile} does not exist`, fix: `create it, or change providers.${f.name}.config in ${f.fleetConfig}` };
  }
  if (f.configFile === undefined && f.runtimesNeedingConfig.length > 0) {
    return {
      name,
      status: 'WARN',
      detail: `no config file, so runtime ${f.runtimesNeedingConfig.join(', ')} cannot start with it${env}`,
      fix: `set providers.${f.name}.config = "~/.llmspell/${f.name}.toml" in ${f.fleetConfig}`,
    };
  }
  if (f.configFile === undefined && f.profile === undefined && f.generatedNotice !== undefined) {
    return { name, status: 'WARN', detail: `no config file, and llmspell would start without this provider${env}`, fix: f.generatedNotice.trim() };
  }
  const none = f.profile !== undefined ? `no config file (llmspell uses its built-in profile ${f.profile})` : 'no config file (the llmspell adapter writes a minimal one from the environment)';
  return { name, status: 'OK', detail: `${f.configFile !== undefined ? `config ${f.configFile}` : none}${env}` };
}

export interface LimitsFacts {
  /** "runtimes.python: memory 512 MB, cpus 0.5" for each table that sets limits. */
  configured: string[];
  /** chooseMechanism's answer for limits of every kind, on this host. */
  mechanism: 'cgroup-v1' | 'cgroup-v2' | 'prlimit' | 'none';
  /** For a cgroup: where backends' cgroups go. */
  where?: string;
  /** Otherwise: why no cgroup, and what the fallback does. */
  note: string;
}

/** Resource limits: which mechanism enforces them here, and why when it is not a cgroup. */
export function limitsCheck(f: LimitsFacts): Check {
  const name = 'resource limits';
  const set = f.configured.length > 0 ? f.configured.join('; ') : 'none set in fleet.toml';
  const fix = 'run the manager where it may write cgroups: as root on cgroup v1, or in a delegated cgroup v2 subtree (e.g. systemd-run --user -p Delegate=yes llmspell-fleet manager --foreground)';
  if (f.where !== undefined) return { name, status: 'OK', detail: `${set}; enforced by ${f.where}` };
  if (f.configured.length === 0) return { name, status: 'OK', detail: `${set}; if set: ${f.note}` };
  return { name, status: 'WARN', detail: `${set}; ${f.note}`, fix };
}

/** 1 when a critical check failed (the default runtime cannot start, or nothing can). */
export function doctorExitCode(checks: readonly Check[]): number {
  return checks.some((c) => c.critical === true && c.status === 'FAIL') ? 1 : 0;
}

/** The table, with a `fix:` line under each check that is not OK. */
export function formatDoctor(checks: readonly Check[]): string {
  const table = formatTable(
    ['STATUS', 'CHECK', 'DETAIL'],
    checks.map((c) => [c.status, c.name, c.detail]),
  ).split('\n');
  const indent = ' '.repeat(Math.max('STATUS'.length, ...checks.map((c) => c.status.length)) + 2);
  const out = [table[0] as string];
  checks.forEach((c, i) => {
    out.push(table[i + 1] as string);
    if (c.status !== 'OK' && c.fix !== undefined) out.push(`${indent}fix: ${c.fix}`);
  });
  return `${out.join('\n')}\n`;
}
