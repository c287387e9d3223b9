import type { Logger } from '../shared/log.js';
import { BackendProcess } from './backend-process.js';
import { FamilySampler, measureBackend, type UsageSamplers } from './manager/backend-usage.js';
import { CpuPercent } from './manager/cpu-percent.js';
import { HostCpu } from './manager/host-usage.js';
import { planLaunch } from './plan.js';
import type { FleetConfig } from './types.js';
import type { Requirement } from '../shared/requirement.js';

export interface LocalDirectoryOptions {
  config: FleetConfig;
  home: string;
  logger: Logger;
  env?: Record<string, string | undefined>;
}

/**
 * One backend per router, started by the router's own process: the data path of issue #2.
 * It has the shape the router expects of any directory (structural typing, no import of the
 * router), so the fleet manager's client can replace it without touching the router.
 */
export class LocalBackendDirectory {
  /** With no manager, the router measures its own backend for usage_reply, as the manager would. */
  readonly #usage: UsageSamplers = { cpu: new CpuPercent(), host: new HostCpu(), families: new FamilySampler() };

  constructor(private readonly options: LocalDirectoryOptions) {}

  async acquire(requirement: Requirement, { signal }: { signal: AbortSignal }) {
    signal.throwIfAborted();
    const plan = await planLaunch({ requirement, config: this.options.config, home: this.options.home, env: this.options.env });
    const startedAt = Date.now();
    const backend = await BackendProcess.launch(plan, { logger: this.options.logger });
    if (signal.aborted) {
      await backend.stop();
      signal.throwIfAborted();
    }
    return {
      kernelId: plan.kernelId,
      pid: backend.pid,
      connection: backend.connection,
      interruptMode: plan.interruptMode,
      requirement,
      exited: backend.exited,
      interrupt: () => backend.interrupt(),
      // The only user is leaving: a local backend always stops with its router.
      release: async (_options: { stop: boolean }) => { await backend.stop(); },
      usage: async () => measureBackend(this.#usage, { kernelId: plan.kernelId, pid: backend.pid, startedAt }),
    };
  }
}

/** A directory that cannot start anything, carrying the reason to every client that asks. */
export class UnavailableDirectory {
  constructor(private readonly error: Error) {}
  acquire(): Promise<never> {
    return Promise.reject(this.error);
  }
}
