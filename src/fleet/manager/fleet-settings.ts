/**
 * The fleet config as last loaded (at start and before each launch) and what it sets for the
 * manager until the next load: linger, the replay limits of kept output, manager_idle_seconds.
 * Edits to fleet.toml apply without restarting the manager.
 */
import { DEFAULT_LINGER_SECONDS, DEFAULT_MANAGER_IDLE_SECONDS } from '../defaults.js';
import type { FleetConfig } from '../types.js';
import type { DetachedLimits } from '../../shared/detached-output.js';
import { replayLimits } from './detached-output.js';

export class FleetSettings {
  #last: FleetConfig | undefined;
  #lingerSeconds = DEFAULT_LINGER_SECONDS;
  #replayLimits: DetachedLimits = replayLimits(undefined);
  #idleSeconds = DEFAULT_MANAGER_IDLE_SECONDS;

  constructor(private readonly load: () => Promise<FleetConfig>) {}

  async reload(): Promise<FleetConfig> {
    const config = await this.load();
    this.#lingerSeconds = config.linger_seconds;
    this.#replayLimits = replayLimits(config.replay);
    this.#idleSeconds = config.manager_idle_seconds;
    this.#last = config;
    return config;
  }

  /** Undefined until a config loaded. */
  get last(): FleetConfig | undefined {
    return this.#last;
  }

  get lingerSeconds(): number {
    return this.#lingerSeconds;
  }

  get replayLimits(): DetachedLimits {
    return this.#replayLimits;
  }

  get idleSeconds(): number {
    return this.#idleSeconds;
  }
}
