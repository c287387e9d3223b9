/**
 * Shapes shared by config loading, resolution and launching. The TOML file's shape is pinned
 * by issue #2 (other tools read it): see README "Configuration".
 */

/** How a backend gets its connection file. */
export type ConnectionMode = 'router-writes' | 'kernel-writes';
export type InterruptMode = 'signal' | 'message';

export interface RuntimeConfig {
  /** Name of an installed Jupyter kernelspec (found on the Jupyter data path). */
  kernelspec?: string;
  /** argv template; placeholders {connection_file} {kernel_id} {runtime} {provider} {config} {resource_dir}. */
  argv?: string[];
  connection?: ConnectionMode;
  language?: string;
  interrupt_mode?: InterruptMode;
  env?: Record<string, string>;
  /** Seconds to wait for the backend to be ready (default 60). */
  startup_timeout?: number;
  /** "llmspell": start the runtime's argv inside the llmspell adapter, which speaks Jupyter for it (issue #8). */
  adapter?: 'llmspell';
  /**
   * What an interrupt does to a backend that cannot interrupt a cell (llmspell): "notice" says so
   * at once in the cell and lets it run; "restart" also restarts the kernel after
   * interrupt_grace_seconds if the cell is still running.
   */
  interrupt?: 'notice' | 'restart';
  /** Seconds (> 0) an interrupted cell may still finish before interrupt = "restart" restarts the kernel. */
  interrupt_grace_seconds?: number;
  /** A private network namespace for llmspell: "on" requires one, "off" never, "auto" when the host allows it. */
  isolate?: 'auto' | 'on' | 'off';
}

export interface ProviderConfig {
  /** Path to the provider's llmspell config file ("~" expanded); fills {config}. */
  config?: string;
  env?: Record<string, string>;
  /** An llmspell built-in profile (`--profile NAME`; letters, digits, -, _) used when `config` is not set. */
  profile?: string;
}

/** `[router]`: limits every router applies to its clients and backends. */
export interface RouterLimits {
  /** A message (all frames) larger than this is dropped and counted. */
  max_message_mb: number;
  /** Automatic restarts of a dying backend allowed per minute; 0 turns them off. */
  restart_limit: number;
  /** A backend silent on its heartbeat this long is checked: dead means restarted, alive means clients are told. */
  heartbeat_timeout_seconds: number;
}

export interface FleetConfig {
  default_runtime: string;
  default_provider: string;
  runtimes: Record<string, RuntimeConfig>;
  providers: Record<string, ProviderConfig>;
  linger_seconds: number;
  router: RouterLimits;
  /** The file this came from, or undefined for built-in defaults only. */
  source?: string;
}

export interface Requirement {
  runtime: string;
  provider: string;
  group?: string;
}

/** Everything needed to start one backend, after config, kernelspec lookup and templating. */
export interface LaunchPlan {
  kernelId: string;
  requirement: Requirement;
  argv: string[];
  env: Record<string, string>;
  cwd?: string;
  connection: ConnectionMode;
  interruptMode: InterruptMode;
  /** Absolute path where the connection file is written (router-writes) or expected (kernel-writes). */
  connectionFile: string;
  logFile: string;
  startupTimeoutMs: number;
  /** Names of env keys that came from provider/runtime config: their values are secrets and never logged. */
  secretEnvKeys: string[];
}
