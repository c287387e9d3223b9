/**
 * fleet.toml as a valibot schema: every key, what it may hold, and the message when it does
 * not. The shape is pinned by issue #2 (other tools read it; README "Configuration"); the
 * interfaces in types.ts document it, and the Assert lines below keep the two identical.
 * Merging over the defaults and checks that need them (default_runtime names a runtime) stay
 * in config.ts.
 */
import { basename } from 'node:path';
import * as v from 'valibot';
import { got, isTable, oneOf, table, type Assert, type Same, type Table } from '../shared/schema.js';
import { parseListenAddress } from './http-address.js';
import { PLACEHOLDERS, unknownPlaceholders } from './template.js';
import type { HttpConfig, ProviderConfig, ReplayLimits, RouterLimits, RuntimeConfig } from './types.js';

// Names end up in kernel ids and file names, so they must be safe path components.
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PROFILE_NAME = /^[A-Za-z0-9_-]+$/;

const nonEmptyString = v.pipe(v.string(got('must be a non-empty string')), v.minLength(1, got('must be a non-empty string')));

function number(min: number, exclusive: boolean, whole = false) {
  const what = `must be a number ${exclusive ? '>' : '>='} ${min}`;
  const base = v.pipe(v.number(got(what)), v.finite(got(what)), exclusive ? v.gtValue(min, got(what)) : v.minValue(min, got(what)));
  return whole ? v.pipe(base, v.integer(got('must be a whole number'))) : base;
}

const envTable = v.pipe(
  v.custom<Table>(isTable, got('must be a table of NAME = "value" strings')),
  v.record(
    v.pipe(v.string(), v.regex(ENV_NAME, 'is not a valid environment variable name (letters, digits, _)')),
    // Never echo the value: provider env holds API keys.
    v.string((issue) => `must be a string (quote it), not ${typeof issue.input}`),
  ),
);

const argvItem = v.string(got('must be a string'));

/** argv template: names a program, uses only known placeholders, and says where the connection file goes. */
const argvSchema = v.pipe(
  v.array(argvItem, got('must be a non-empty array of strings')),
  v.nonEmpty(got('must be a non-empty array of strings')),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const argv = dataset.value;
    const at = (index: number): [v.ArrayPathItem] => [{ type: 'array', origin: 'value', input: argv, key: index, value: argv[index] }];
    const unknown = unknownPlaceholders(argv)[0];
    if (argv[0] === '') addIssue({ message: 'must name the program to run', path: at(0) });
    else if (unknown) {
      addIssue({ message: `uses unknown placeholder {${unknown.name}}; known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`, path: at(unknown.index) });
    } else if (!argv.some((el) => el.includes('{connection_file}'))) {
      addIssue({ message: 'must contain {connection_file}, so the backend and the router agree on where the connection file is' });
    }
  }),
);

/** Limit keys, shared by [runtimes.X] and [providers.Y] (types.ts BackendLimits). */
export const limitEntries = {
  memory_mb: v.optional(number(0, true)),
  cpus: v.optional(number(0, true)),
  pids: v.optional(number(1, false, true)),
  cpu_seconds: v.optional(number(0, true)),
  idle_cull_seconds: v.optional(number(0, true)),
  memory_warn_percent: v.optional(v.pipe(number(0, true), v.maxValue(100, got('must be a percentage > 0 and <= 100')))),
};

const path = v.pipe(nonEmptyString, v.check((s) => s.startsWith('/') || s === '~' || s.startsWith('~/'), got('must be an absolute path or start with ~/')));
// Kubernetes names: a namespace and a ServiceAccount are DNS labels/subdomains.
const DNS_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** launcher = "kubernetes" (launchers/kube/): where and how its pods run. */
const kubeEntries = {
  namespace: v.optional(v.pipe(nonEmptyString, v.maxLength(63, got('must be at most 63 characters')), v.regex(DNS_NAME, got('must be a Kubernetes namespace name (lower-case letters, digits, "-")')))),
  node_selector: v.optional(
    v.pipe(
      v.custom<Table>(isTable, got('must be a table of "label" = "value" strings')),
      v.record(v.pipe(v.string(), v.regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9][-A-Za-z0-9_.]*$/, 'is not a Kubernetes label key')), v.pipe(v.string(got('must be a string')), v.regex(LABEL_VALUE, got('must be a Kubernetes label value')))),
    ),
  ),
  service_account: v.optional(v.pipe(nonEmptyString, v.regex(DNS_NAME, got('must be a ServiceAccount name')))),
  pod_template: v.optional(path),
  kubeconfig: v.optional(path),
  context: v.optional(nonEmptyString),
};
const KUBE_KEYS = Object.keys(kubeEntries) as (keyof typeof kubeEntries)[];

const runtimeEntries = {
  kernelspec: v.optional(v.pipe(nonEmptyString, v.regex(NAME, got('must be a kernelspec name as `jupyter kernelspec list` shows it')))),
  argv: v.optional(argvSchema),
  connection: v.optional(oneOf(['router-writes', 'kernel-writes'])),
  language: v.optional(nonEmptyString),
  interrupt_mode: v.optional(oneOf(['signal', 'message'])),
  env: v.optional(envTable),
  startup_timeout: v.optional(number(0, true)),
  // For the llmspell adapter (issue #8); see RuntimeConfig for what each means.
  adapter: v.optional(oneOf(['llmspell', 'none'])),
  interrupt: v.optional(oneOf(['notice', 'restart'])),
  interrupt_grace_seconds: v.optional(number(0, true)),
  isolate: v.optional(oneOf(['auto', 'on', 'off'])),
  launcher: v.optional(oneOf(['process', 'container', 'kubernetes'])),
  image: v.optional(v.pipe(nonEmptyString, v.regex(/^[^\s-][^\s]*$/, got('must be an image name, e.g. "localhost/my-kernel:1"')))),
  container_engine: v.optional(oneOf(['auto', 'podman', 'docker'])),
  curve: v.optional(v.boolean(got('must be true or false'))),
  ...kubeEntries,
  ...limitEntries,
};

export const RuntimeSchema = v.pipe(
  table(runtimeEntries, 'must be a table'),
  v.check(
    (rt) => (rt.kernelspec === undefined) !== (rt.argv === undefined),
    'must set exactly one of kernelspec (an installed Jupyter kernel) or argv (a command template)',
  ),
  // The adapter starts llmspell from an argv template; a kernelspec has its own.
  v.forward(
    v.partialCheck(
      [['kernelspec'], ['adapter']],
      (rt) => rt.kernelspec === undefined || rt.adapter !== 'llmspell',
      'needs an argv runtime (the adapter starts llmspell from argv), not a kernelspec',
    ),
    ['adapter'],
  ),
  // A kernelspec kernel is handed a connection file by contract; it never writes one.
  v.forward(
    v.partialCheck(
      [['kernelspec'], ['connection']],
      (rt) => rt.kernelspec === undefined || rt.connection !== 'kernel-writes',
      'must be "router-writes" for a kernelspec runtime (Jupyter kernels read the file they are given)',
    ),
    ['connection'],
  ),
  // A container runs argv from its image; a kernelspec's argv names programs on this host.
  v.forward(
    v.partialCheck(
      [['launcher'], ['kernelspec'], ['argv']],
      (rt) => rt.launcher !== 'container' || rt.argv !== undefined,
      'needs argv (the command run inside the image) when launcher = "container", not a kernelspec',
    ),
    ['launcher'],
  ),
  v.forward(
    v.partialCheck(
      [['launcher'], ['kernelspec'], ['argv']],
      (rt) => rt.launcher !== 'kubernetes' || rt.argv !== undefined,
      'needs argv (the command run in the pod) when launcher = "kubernetes", not a kernelspec',
    ),
    ['launcher'],
  ),
  v.forward(
    v.partialCheck(
      [['launcher'], ['image']],
      (rt) => (rt.launcher === 'container' || rt.launcher === 'kubernetes') === (rt.image !== undefined),
      'must be set exactly when launcher = "container" or "kubernetes" (the image argv runs in)',
    ),
    ['image'],
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.value.launcher === 'kubernetes') return;
    const stray = KUBE_KEYS.find((k) => dataset.value[k] !== undefined);
    if (stray !== undefined) addIssue({ message: `is only used with launcher = "kubernetes"; remove ${stray} or set launcher = "kubernetes"`, path: [{ type: 'object', origin: 'value', input: dataset.value, key: stray, value: dataset.value[stray] }] });
  }),
  v.forward(
    v.partialCheck(
      [['launcher'], ['adapter'], ['connection']],
      (rt) => (rt.launcher !== 'container' && rt.launcher !== 'kubernetes') || (rt.adapter !== 'llmspell' && rt.connection !== 'kernel-writes'),
      'cannot be "container" or "kubernetes" with the llmspell adapter or connection = "kernel-writes": the router writes the connection file of a backend in a container or pod',
    ),
    ['launcher'],
  ),
  // The keys travel in the connection file the manager writes; a kernel that writes its own has none of ours.
  v.forward(
    v.partialCheck(
      [['curve'], ['connection'], ['adapter'], ['argv']],
      (rt) => rt.curve !== true || (rt.connection !== 'kernel-writes' && !viaLlmspellAdapter(rt)),
      'cannot be true with connection = "kernel-writes" or the llmspell adapter: the curve keys go in the connection file the manager writes, and that backend writes its own; remove curve or run a kernel that reads its connection file',
    ),
    ['curve'],
  ),
);

/** As adapter-plan.ts usesLlmspellAdapter decides it (kept here: the schema sits below the planner). */
function viaLlmspellAdapter(rt: { adapter?: string; argv?: string[] }): boolean {
  if (rt.adapter !== undefined) return rt.adapter === 'llmspell';
  const program = rt.argv?.[0];
  return program !== undefined && basename(program) === 'llmspell';
}

export const ProviderSchema = table(
  {
    config: v.optional(nonEmptyString),
    env: v.optional(envTable),
    profile: v.optional(v.pipe(nonEmptyString, v.regex(PROFILE_NAME, got('must be an llmspell profile name: letters, digits, "-", "_"')))),
    ...limitEntries,
  },
  'must be a table',
);

export const RouterSchema = table(
  {
    max_message_mb: v.optional(number(0, true)),
    restart_limit: v.optional(number(0, false, true)),
    heartbeat_timeout_seconds: v.optional(number(0, true)),
    host_linger_seconds: v.optional(number(0, false)),
  },
  'must be a table: [router]',
);

export const ReplaySchema = table(
  {
    max_messages: v.optional(number(0, false, true)),
    // The router takes the whole buffer in one line of the manager protocol (at most 4 MB).
    max_mb: v.optional(v.pipe(number(0, false), v.maxValue(3, got('must be at most 3 (MB)')))),
  },
  'must be a table: [replay]',
);

const flag = v.boolean(got('must be true or false'));

export const HttpSchema = table(
  {
    enabled: v.optional(flag),
    listen: v.optional(
      v.pipe(
        v.string(got('must be "HOST:PORT", e.g. "127.0.0.1:9464" (port 0: the OS picks one)')),
        v.check((s) => parseListenAddress(s) !== undefined, got('must be "HOST:PORT" with an IP address (IPv6 in brackets) or localhost, and a port 0-65535')),
      ),
    ),
    metrics_auth: v.optional(flag),
  },
  'must be a table: [http]',
);

const SEGMENT = NAME.source.slice(1, -1);
/** `runtime/provider`: a pool entry names a requirement without a group (a spare serves any group). */
export const POOL_KEY = new RegExp(`^${SEGMENT}/${SEGMENT}$`);

const spareCount = v.pipe(
  v.number(got('must be a whole number >= 0 (spares to keep)')),
  v.minValue(0, got('must be a whole number >= 0 (spares to keep)')),
  v.integer(got('must be a whole number >= 0 (spares to keep)')),
);

/** `"python/openai" = 1`, or the long form with the code each spare runs before it is offered. */
export const PoolSchema = v.pipe(
  v.custom<Table>(isTable, got('must be a table: [pool] with "runtime/provider" = N entries')),
  v.record(
    v.pipe(v.string(), v.regex(POOL_KEY, 'must be a requirement "runtime/provider" (quote it), e.g. "python/openai"')),
    v.union(
      [
        spareCount,
        table(
          {
            count: spareCount,
            startup: v.optional(v.string(got('must be a string of code'))),
            cwd: v.optional(v.pipe(nonEmptyString, v.check((s) => s.startsWith('/') || s === '~' || s.startsWith('~/'), got('must be an absolute path or start with ~/')))),
          },
          'must be a whole number >= 0 or a table { count, startup, cwd }',
        ),
      ],
      got('must be a whole number >= 0 or a table { count = N, startup = "code", cwd = "dir" }'),
    ),
  ),
);

function namedTables<S extends v.GenericSchema>(key: string, body: S) {
  return v.pipe(
    v.custom<Table>(isTable, got(`must be a table of named tables, e.g. [${key}.NAME]`)),
    v.record(v.pipe(v.string(), v.regex(NAME, 'has a bad name: use letters, digits, "_", "-", "." and start with a letter or digit')), body),
  );
}

/** The file as written: every key optional, nothing merged yet. */
export const FleetFileSchema = table(
  {
    default_runtime: v.optional(nonEmptyString),
    default_provider: v.optional(nonEmptyString),
    linger_seconds: v.optional(number(0, false)),
    manager_idle_seconds: v.optional(number(0, false)),
    max_backends: v.optional(number(1, false, true)),
    pool_max_mb: v.optional(number(0, true)),
    pool: v.optional(PoolSchema),
    router: v.optional(RouterSchema),
    replay: v.optional(ReplaySchema),
    http: v.optional(HttpSchema),
    runtimes: v.optional(namedTables('runtimes', RuntimeSchema)),
    providers: v.optional(namedTables('providers', ProviderSchema)),
  },
  'must be a TOML document',
);
export type FleetFile = v.InferOutput<typeof FleetFileSchema>;

type _RuntimeShape = Assert<Same<v.InferOutput<typeof RuntimeSchema>, RuntimeConfig>>;
type _ProviderShape = Assert<Same<v.InferOutput<typeof ProviderSchema>, ProviderConfig>>;
type _RouterShape = Assert<Same<Required<v.InferOutput<typeof RouterSchema>>, RouterLimits>>;
type _HttpShape = Assert<Same<Required<v.InferOutput<typeof HttpSchema>>, HttpConfig>>;
type _ReplayShape = Assert<Same<Required<v.InferOutput<typeof ReplaySchema>>, ReplayLimits>>;
