/**
 * Shapes shared by config loading, resolution and launching. The TOML file's shape is pinned
 * by issue #2 (other tools read it): see README "Configuration".
 */
import type { InterruptMode, Requirement } from '../shared/requirement.js';

/** How a backend gets its connection file. */
export type ConnectionMode = 'router-writes' | 'kernel-writes';

/**
 * Per-backend resource limits (issue #10). Set on a runtime or a provider; where both set a
 * key the provider's wins (see effectiveLimits in limits.ts). Every key is optional: unset
 * means no limit.
 */
export interface BackendLimits {
  /** Resident memory of the backend's whole process group, in MB. */
  memory_mb?: number;
  /** CPU cores it may use; fractions allowed (0.5 = half a core). */
  cpus?: number;
  /** Processes and threads it may hold at once. */
  pids?: number;
  /** CPU time it may use in total before it is stopped, in seconds. */
  cpu_seconds?: number;
  /** Stop a backend that has run nothing for this long, even with clients attached (they are told). */
  idle_cull_seconds?: number;
  /** Percent of memory_mb at which the running cell is warned once (default 90). */
  memory_warn_percent?: number;
}

export interface RuntimeConfig extends BackendLimits {
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
  /**
   * "llmspell": run argv (an llmspell kernel) behind the llmspell adapter, which speaks standard
   * Jupyter. Default: "llmspell" when argv runs a program named llmspell, else "none".
   */
  adapter?: 'llmspell' | 'none';
  /** Adapter runtimes: what an interrupt does while a cell runs (llmspell cannot stop one). Default "notice". */
  interrupt?: 'notice' | 'restart';
  /** interrupt = "restart": seconds a cell may still finish before llmspell is restarted (default 5). */
  interrupt_grace_seconds?: number;
  /** Adapter runtimes: a private network namespace for llmspell ("auto": where the OS allows). */
  isolate?: 'auto' | 'on' | 'off';
  /**
   * "container": run argv inside `image` with podman or docker (README "Container backends");
   * "kubernetes": run it in a pod (README "Backends on Kubernetes"). Default "process".
   */
  launcher?: 'process' | 'container' | 'kubernetes';
  /** launcher = "container" or "kubernetes": the image argv runs in (a container engine pulls nothing). */
  image?: string;
  /** launcher = "container": which engine runs it; "auto" (default) is podman if installed, else docker. */
  container_engine?: 'auto' | 'podman' | 'docker';
  /**
   * CurveZMQ between routers and this backend: the manager gives each backend a fresh key pair
   * in the connection file it writes (router-writes only). Default false.
   */
  curve?: boolean;
  /** launcher = "kubernetes": the namespace of its pods and Secrets (default "default"). */
  namespace?: string;
  /** launcher = "kubernetes": the pod's spec.nodeSelector. */
  node_selector?: Record<string, string>;
  /** launcher = "kubernetes": the pod's spec.serviceAccountName. */
  service_account?: string;
  /** launcher = "kubernetes": a Pod (YAML or JSON) whose fields the launcher's own are merged over. */
  pod_template?: string;
  /** launcher = "kubernetes": a kubeconfig file instead of the standard places (KUBECONFIG, ~/.kube/config, in-cluster). */
  kubeconfig?: string;
  /** launcher = "kubernetes": the kubeconfig context to use instead of its current one. */
  context?: string;
}

export interface ProviderConfig extends BackendLimits {
  /** Path to the provider's llmspell config file ("~" expanded); fills {config}. */
  config?: string;
  env?: Record<string, string>;
  /** llmspell built-in profile (`--profile`) used when the provider has no config file. */
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
  /** How long the router host (one process relaying for every notebook) stays with no session before it exits; 0 = as soon as the last one ends. */
  host_linger_seconds: number;
}

/** `[replay]`: how much output the manager keeps per backend while no client is attached. */
export interface ReplayLimits {
  /** Messages kept; the oldest are dropped (and counted) beyond this. */
  max_messages: number;
  /** Their content's size in MB; the oldest are dropped beyond this. */
  max_mb: number;
}

/** `[http]`: the manager's HTTP API and /metrics (README "HTTP API and metrics"). */
export interface HttpConfig {
  /** Default true. */
  enabled: boolean;
  /** "HOST:PORT"; default "127.0.0.1:0" (loopback, a port the OS picks). Anything else is logged as a warning. */
  listen: string;
  /** Whether /metrics needs the token too; default false (it is open on loopback). */
  metrics_auth: boolean;
}

/**
 * One `[pool]` entry (issue #12): how many idle spares of a requirement the manager keeps
 * ready, and what each runs before it is offered. Written as `"python/openai" = 1` or as
 * `"python/openai" = { count = 1, startup = "import numpy", cwd = "~/notebooks" }`.
 */
export interface PoolEntry {
  /** Spares to keep ready; 0 keeps none (the entry is then only documentation). */
  count: number;
  /** Code each spare runs (silently, as one execute_request) before it is offered; a failure discards the spare. */
  startup?: string;
  /** Working directory of the spares ("~" expanded); default the user's home directory. */
  cwd?: string;
}

export interface FleetConfig {
  default_runtime: string;
  default_provider: string;
  runtimes: Record<string, RuntimeConfig>;
  providers: Record<string, ProviderConfig>;
  linger_seconds: number;
  /** The manager exits after this long with no backend, client or request; 0 = never. */
  manager_idle_seconds: number;
  /** Backends the whole fleet may run at once, starting ones included; unset = no limit. */
  max_backends?: number;
  /** `[pool]`: spares to keep per requirement key `runtime/provider` (no group: a spare serves any). */
  pool: Record<string, PoolEntry>;
  /** The spares' total resident memory in MB: spares over it are not started, or are retired. Unset = no cap. */
  pool_max_mb?: number;
  router: RouterLimits;
  replay: ReplayLimits;
  http: HttpConfig;
  /** The file this came from, or undefined for built-in defaults only. */
  source?: string;
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
  /** Set for launcher = "container": argv runs inside this image, under these limits. */
  container?: ContainerPlan;
  /** Set for launcher = "kubernetes": argv runs in a pod (launchers/kube/). */
  kube?: KubePlan;
  /** Set when argv runs the llmspell adapter: what it starts, and whether llmspell is network-isolated. */
  adapter?: AdapterPlan;
  /** runtimes.X.curve: the connection file written for this backend carries a fresh CurveZMQ pair. */
  curve?: boolean;
  /**
   * Where the kernel reads its connection file when that is not connectionFile: a copy the
   * launcher writes beside it, in a directory of its own (container + curve, see ContainerPlan.writableDir).
   */
  kernelConnectionFile?: string;
}

export interface AdapterPlan {
  /** llmspell's own argv, as the adapter runs it. */
  llmspellArgv: string[];
  /** "netns": llmspell and the adapter run in a private network namespace, clients use ipc sockets. */
  isolation: 'netns' | 'none';
  /** Why isolation is off, for doctor and the log. */
  isolationNote?: string;
}

export interface ContainerPlan {
  image: string;
  engine: 'auto' | 'podman' | 'docker';
  limits: BackendLimits;
  /** The fleet home, put on the container as a label: cleanup removes only its own fleet's containers. */
  home: string;
  /** Host files the backend reads (connection file, provider config): mounted read-only at the same path. */
  readOnlyFiles: string[];
  /**
   * A directory of this backend's own, mounted read-write at the same path, holding the kernel's
   * copy of its connection file: ipykernel 7.4 rewrites a connection file that has curve keys
   * (it compares them as bytes with the str it read), which a read-only mount refuses.
   */
  writableDir?: string;
}

/** A running container backend as the registry keeps it: enough to signal, inspect and remove it after a manager restart. */
export interface ContainerRef {
  engine: 'podman' | 'docker';
  name: string;
  cgroupParent?: string;
  memoryMb?: number;
  /** memory_warn_percent when it is set: an adopted container is warned as before. */
  memoryWarnPercent?: number;
}

/** Where the API is: a kubeconfig file (else the standard places) and a context in it (else its current one). */
export interface KubeAccess {
  kubeconfig?: string;
  context?: string;
}

export interface KubePlan extends KubeAccess {
  image: string;
  namespace: string;
  limits: BackendLimits;
  /** The fleet home: its hash labels the fleet's pods, so fleets sharing a namespace never touch each other's. */
  home: string;
  nodeSelector?: Record<string, string>;
  serviceAccount?: string;
  /** Absolute path of the pod template file. */
  podTemplate?: string;
  /** The user the pods are labelled with (llmspell-fleet/owner). */
  owner: string;
  /**
   * The connection file holds curve keys: ipykernel then rewrites it at start (and exits when it
   * cannot), so the kernel reads a copy in a writable in-memory volume, not the read-only Secret.
   */
  kernelCopy?: boolean;
}

/** A pod backend as the registry keeps it: enough to watch, read, and delete its pod and Secret after a manager restart. */
export interface KubeRef extends KubeAccess {
  namespace: string;
  pod: string;
  secret: string;
  /** The fleet label's value (see KubePlan.home). */
  fleet: string;
  memoryMb?: number;
}
