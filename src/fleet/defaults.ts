import { DEFAULT_HTTP_LISTEN } from './http-address.js';
import type { FleetConfig, ProviderConfig, RuntimeConfig } from './types.js';

/**
 * `--port 0` lets the OS pick every port (no port races); no `--daemon`, so the spawned pid is
 * the kernel itself and its errors reach stderr. See notes/llmspell-kernel.md.
 */
export const LLMSPELL_ARGV: readonly string[] = [
  'llmspell', '--config', '{config}', 'kernel', 'start', '--port', '0',
  '--id', '{kernel_id}', '--connection-file', '{connection_file}',
];

/** tslab reads the connection file we write; `--js` picks its JavaScript mode. */
export const TSLAB_ARGV: readonly string[] = ['tslab', 'kernel', '--config-path', '{connection_file}', '--js'];

export const DEFAULT_RUNTIME = 'lua';
export const DEFAULT_PROVIDER = 'openai';
export const DEFAULT_LINGER_SECONDS = 300;
/** Long enough that a notebook opened after a coffee finds the manager still there; 0 = never exit. */
export const DEFAULT_MANAGER_IDLE_SECONDS = 600;
export const DEFAULT_STARTUP_TIMEOUT_SECONDS = 60;
/** Big enough for any notebook output people make (plots, data frames); small enough to stop a runaway. */
export const DEFAULT_MAX_MESSAGE_MB = 1024;
export const DEFAULT_RESTART_LIMIT = 5;
/** Output kept per backend while no client is attached: a long cell's log tail, not a data set. */
export const DEFAULT_REPLAY_MAX_MESSAGES = 1000;
export const DEFAULT_REPLAY_MAX_MB = 1;
/** With pings every 0.5 s, a silent backend is noticed within 3 s. */
export const DEFAULT_HEARTBEAT_TIMEOUT_SECONDS = 2.5;
/** How long an idle router host (no session) waits before it exits, in seconds. */
export const DEFAULT_HOST_LINGER_SECONDS = 30;
export const DEFAULT_PROVIDERS = ['openai', 'anthropic', 'gemini', 'ollama'] as const;

function defaultRuntimes(): Record<string, RuntimeConfig> {
  return {
    // Behind the adapter: llmspell alone answers only its in-process client (see notes/llmspell-kernel.md).
    lua: { argv: [...LLMSPELL_ARGV], adapter: 'llmspell', connection: 'kernel-writes', language: 'lua', interrupt_mode: 'message' },
    javascript: { argv: [...TSLAB_ARGV], connection: 'router-writes' },
    python: { kernelspec: 'python3' },
  };
}

function defaultProviders(): Record<string, ProviderConfig> {
  // No config file by default: the llmspell adapter writes a minimal one for the provider.
  return Object.fromEntries(DEFAULT_PROVIDERS.map((name) => [name, { env: { LLMSPELL_PROVIDER: name } }]));
}

/** A fresh copy each call, so a caller that mutates its config never changes anyone else's defaults. */
export function defaultFleetConfig(): FleetConfig {
  return {
    default_runtime: DEFAULT_RUNTIME,
    default_provider: DEFAULT_PROVIDER,
    runtimes: defaultRuntimes(),
    providers: defaultProviders(),
    linger_seconds: DEFAULT_LINGER_SECONDS,
    manager_idle_seconds: DEFAULT_MANAGER_IDLE_SECONDS,
    pool: {},
    router: {
      max_message_mb: DEFAULT_MAX_MESSAGE_MB,
      restart_limit: DEFAULT_RESTART_LIMIT,
      heartbeat_timeout_seconds: DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
      host_linger_seconds: DEFAULT_HOST_LINGER_SECONDS,
    },
    replay: { max_messages: DEFAULT_REPLAY_MAX_MESSAGES, max_mb: DEFAULT_REPLAY_MAX_MB },
    http: { enabled: true, listen: DEFAULT_HTTP_LISTEN, metrics_auth: false },
  };
}
