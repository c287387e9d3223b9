/**
 * A backend's limits in force: the mechanism chosen for this host (a cgroup, else prlimit),
 * the argv that starts the backend under it, the verdict on how it died, and the clean-up.
 * One per backend, made before it is spawned (or when an adopted one is found again).
 */
import { describeError } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { describeLimits, hasLimits } from '../limits.js';
import type { BackendLimits } from '../types.js';
import { BackendCgroup, probeCgroups, type CgroupProbe } from './cgroup.js';
import { cpuSeconds, joinCgroupArgv, limitVerdict, type LimitVerdict } from './cgroup-layout.js';
import { findPrlimit, prlimitArgv, prlimitOptions } from './prlimit.js';

export type LimitMechanism = 'cgroup-v1' | 'cgroup-v2' | 'prlimit' | 'none';

type Env = Record<string, string | undefined>;

/** What this host offers, decided once per manager (and per cgroup parent). */
export interface LimitSupport {
  probe: CgroupProbe;
  prlimit: string | undefined;
}

const support = new Map<string, Promise<LimitSupport>>();

/** What doctor reports: the same probe, without creating the parent cgroup. */
export async function inspectLimitSupport(env: Env): Promise<LimitSupport> {
  const [probe, prlimit] = await Promise.all([probeCgroups(env, { create: false }), findPrlimit(env.PATH)]);
  return { probe, prlimit };
}

export function limitSupport(env: Env): Promise<LimitSupport> {
  const key = env.LLMSPELL_FLEET_CGROUP_PARENT ?? '';
  let found = support.get(key);
  if (found === undefined) {
    found = Promise.all([probeCgroups(env), findPrlimit(env.PATH)]).then(([probe, prlimit]) => ({ probe, prlimit }));
    support.set(key, found);
  }
  return found;
}

/** Pure: which mechanism enforces `limits` given what the host offers, and why, in words for the log and doctor. */
export function chooseMechanism(limits: BackendLimits, host: LimitSupport): { mechanism: LimitMechanism; note: string; where?: string } {
  if (!hasLimits(limits)) return { mechanism: 'none', note: 'no limits set' };
  if (host.probe.ok) {
    const { where, version } = host.probe.host;
    return { mechanism: version === 'v1' ? 'cgroup-v1' : 'cgroup-v2', note: `${describeLimits(limits)} by ${where}`, where };
  }
  const why = `no cgroup can be written here (${host.probe.why})`;
  if (host.prlimit === undefined) return { mechanism: 'none', note: `${why} and prlimit (util-linux) is not installed: limits are NOT enforced` };
  const { unenforced } = prlimitOptions(limits);
  const lost = unenforced.length > 0 ? `; ${unenforced.join(', ')} cannot be enforced this way` : '';
  return { mechanism: 'prlimit', note: `${why}: falling back to prlimit (memory as address space, pids per user, cpu time per process)${lost}` };
}

export interface ExitFacts {
  exitCode: number | null;
  signal: string | null;
  /** The manager stopped it (stop, restart, linger) rather than it dying. */
  requested: boolean;
}

export class LimitEnforcement {
  #cpuTimeUsedUp = false;
  #finished: Promise<LimitVerdict | undefined> | undefined;

  private constructor(
    readonly limits: BackendLimits,
    readonly mechanism: LimitMechanism,
    readonly note: string,
    readonly cgroup: BackendCgroup | undefined,
    private readonly prlimit: string | undefined,
  ) {}

  /** Before spawning: the cgroup is made now, so the backend joins it before its first instruction. */
  static async prepare(options: { kernelId: string; limits: BackendLimits; env: Env; logger: Logger }): Promise<LimitEnforcement> {
    const { kernelId, limits, logger } = options;
    // Without limits nothing is probed: no cgroup parent is made for a fleet that sets none.
    if (!hasLimits(limits)) return new LimitEnforcement(limits, 'none', 'no limits set', undefined, undefined);
    const host = await limitSupport(options.env);
    const { mechanism, note } = chooseMechanism(limits, host);
    if (mechanism === 'none') {
      logger.warn({ kernelId, mechanism }, note);
      return new LimitEnforcement(limits, mechanism, note, undefined, undefined);
    }
    if (mechanism === 'prlimit') {
      logger.warn({ kernelId, mechanism }, note);
      return new LimitEnforcement(limits, mechanism, note, undefined, host.prlimit);
    }
    if (!host.probe.ok) throw new Error('chooseMechanism chose a cgroup where none can be written');
    const cgroup = await BackendCgroup.create(host.probe.host, kernelId, limits);
    logger.info({ kernelId, mechanism, cgroup: cgroup.procsFiles[0] }, note);
    return new LimitEnforcement(limits, mechanism, note, cgroup, undefined);
  }

  /** After a manager restart: the adopted backend's cgroup, found by its kernel id and checked to hold its pid. */
  static async adopt(options: { kernelId: string; pid: number; limits: BackendLimits; env: Env; logger: Logger }): Promise<LimitEnforcement | undefined> {
    const { kernelId, limits, logger } = options;
    if (!hasLimits(limits)) return undefined;
    const host = await limitSupport(options.env);
    if (!host.probe.ok) return undefined;
    const cgroup = await BackendCgroup.find(host.probe.host, kernelId, options.pid);
    if (cgroup === undefined) {
      logger.warn({ kernelId, backendPid: options.pid }, 'adopted backend is not in its cgroup any more; its limits are not watched');
      return undefined;
    }
    const mechanism: LimitMechanism = host.probe.host.version === 'v1' ? 'cgroup-v1' : 'cgroup-v2';
    logger.info({ kernelId, mechanism }, `adopted backend keeps ${describeLimits(limits)} (${host.probe.host.where})`);
    return new LimitEnforcement(limits, mechanism, `${describeLimits(limits)} by ${host.probe.host.where}`, cgroup, undefined);
  }

  /**
   * A registry entry forgotten at adoption (its backend died with the old manager): its cgroup
   * has nobody to remove it, so it goes now (with anything still inside, which was the backend's).
   */
  static async discard(options: { kernelId: string; env: Env; logger: Logger }): Promise<void> {
    const host = await limitSupport(options.env);
    if (!host.probe.ok) return;
    await BackendCgroup.at(host.probe.host, options.kernelId)
      .remove()
      .catch((error: unknown) => options.logger.error({ kernelId: options.kernelId, err: describeError(error) }, 'cannot remove the cgroup of a forgotten backend'));
  }

  /** argv that starts the backend under this mechanism. */
  wrap(argv: readonly string[]): string[] {
    if (this.cgroup !== undefined) return joinCgroupArgv(this.cgroup.procsFiles, argv);
    if (this.prlimit !== undefined) return prlimitArgv(this.prlimit, this.limits, argv);
    return [...argv];
  }

  /** The manager stops the backend because its cpu_seconds are used up: its death is told as that. */
  cpuTimeUsedUp(): void {
    this.#cpuTimeUsedUp = true;
  }

  /** CPU seconds the backend's whole cgroup has used, when a cgroup measures it. */
  async cpuSecondsUsed(): Promise<number | undefined> {
    if (this.cgroup === undefined) return undefined;
    const raw = await this.cgroup.read('cpuUsage');
    return raw === undefined ? undefined : cpuSeconds(this.cgroup.host.version, raw);
  }

  /**
   * Once the backend is gone: the limit that ended it (read from the cgroup's own counters),
   * then the cgroup removed. Idempotent; never rejects (a clean-up failure is logged).
   */
  finish(exit: ExitFacts, logger: Logger): Promise<LimitVerdict | undefined> {
    this.#finished ??= this.#finish(exit, logger);
    return this.#finished;
  }

  async #finish(exit: ExitFacts, logger: Logger): Promise<LimitVerdict | undefined> {
    const cgroup = this.cgroup;
    const prlimitCpu = this.mechanism === 'prlimit' && exit.signal === 'SIGXCPU' && !exit.requested;
    const counters =
      cgroup === undefined ? { oomKills: 0, pidsMaxHits: 0 } : { oomKills: (await cgroup.read('oomKills')) ?? 0, pidsMaxHits: (await cgroup.read('pidsMaxHits')) ?? 0 };
    const verdict = limitVerdict({ limits: this.limits, ...exit, ...counters, cpuTimeUsedUp: this.#cpuTimeUsedUp || prlimitCpu });
    if (cgroup !== undefined) {
      await cgroup.remove().catch((error: unknown) => logger.error({ kernelId: cgroup.kernelId, err: describeError(error) }, 'cannot remove the backend cgroup'));
    }
    return verdict;
  }
}
