import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FleetError, isFleetError } from '../../../src/shared/errors.js';
import { loadFleetConfig, parseFleetConfig } from '../../../src/fleet/config.js';
import { defaultFleetConfig, LLMSPELL_ARGV, TSLAB_ARGV } from '../../../src/fleet/defaults.js';

const SRC = '/etc/llmspell/fleet.toml';

function configError(text: string, source = SRC): FleetError {
  try {
    parseFleetConfig(text, source);
  } catch (e) {
    if (isFleetError(e)) return e;
    throw e;
  }
  throw new Error('expected a FleetError');
}

describe('defaults', () => {
  it('match the pinned built-ins', () => {
    const d = defaultFleetConfig();
    expect(d).toMatchObject({ default_runtime: 'lua', default_provider: 'openai', linger_seconds: 300, manager_idle_seconds: 600 });
    expect(d.runtimes.lua).toEqual({ argv: [...LLMSPELL_ARGV], adapter: 'llmspell', connection: 'kernel-writes', language: 'lua', interrupt_mode: 'message' });
    expect(d.runtimes.javascript).toEqual({ argv: [...TSLAB_ARGV], connection: 'router-writes' });
    expect(d.runtimes.python).toEqual({ kernelspec: 'python3' });
    expect(Object.keys(d.providers).sort()).toEqual(['anthropic', 'gemini', 'ollama', 'openai']);
    expect(d.providers.ollama).toEqual({ env: { LLMSPELL_PROVIDER: 'ollama' } });
    expect(d.source).toBeUndefined();
  });

  it('are a fresh copy on every call', () => {
    const a = defaultFleetConfig();
    a.runtimes.lua!.argv!.push('--oops');
    a.providers.openai!.env!.X = 'y';
    const b = defaultFleetConfig();
    expect(b.runtimes.lua!.argv).toEqual([...LLMSPELL_ARGV]);
    expect(b.providers.openai!.env).toEqual({ LLMSPELL_PROVIDER: 'openai' });
  });
});

describe('parseFleetConfig', () => {
  it('an empty file is the defaults, with its source', () => {
    expect(parseFleetConfig('', SRC)).toEqual({ ...defaultFleetConfig(), source: SRC });
  });

  it('reads the pinned example shape', () => {
    const text = `
default_runtime = "python"
default_provider = "anthropic"
linger_seconds = 30
manager_idle_seconds = 0
[runtimes.python]
kernelspec = "python3"
interrupt_mode = "message"
startup_timeout = 90
env = { PYTHONUNBUFFERED = "1" }
[runtimes.javascript]
argv = ["tslab", "kernel", "--config-path", "{connection_file}", "--js"]
[runtimes.lua]
argv = ["llmspell", "--config", "{config}", "kernel", "start", "--port", "0",
        "--id", "{kernel_id}", "--connection-file", "{connection_file}"]
connection = "kernel-writes"
language = "lua"
[providers.openai]
config = "~/.llmspell/openai.toml"
env = { LLMSPELL_PROVIDER = "openai", OPENAI_API_KEY = "sk-test" }
[providers.local]
config = "local/llmspell.toml"
`;
    const c = parseFleetConfig(text, SRC);
    expect(c).toMatchObject({ default_runtime: 'python', default_provider: 'anthropic', linger_seconds: 30, manager_idle_seconds: 0, source: SRC });
    expect(c.runtimes.python).toEqual({ kernelspec: 'python3', interrupt_mode: 'message', startup_timeout: 90, env: { PYTHONUNBUFFERED: '1' } });
    expect(c.runtimes.lua).toEqual({ argv: [...LLMSPELL_ARGV], connection: 'kernel-writes', language: 'lua' });
    expect(c.providers.openai).toEqual({ config: '~/.llmspell/openai.toml', env: { LLMSPELL_PROVIDER: 'openai', OPENAI_API_KEY: 'sk-test' } });
    // relative config paths mean "next to fleet.toml"
    expect(c.providers.local).toEqual({ config: '/etc/llmspell/local/llmspell.toml' });
    // untouched defaults survive the merge
    expect(c.providers.ollama).toEqual({ env: { LLMSPELL_PROVIDER: 'ollama' } });
  });

  it('a user runtime table replaces the default of that name wholesale', () => {
    const c = parseFleetConfig('[runtimes.lua]\nkernelspec = "xlua"\n', SRC);
    expect(c.runtimes.lua).toEqual({ kernelspec: 'xlua' });
  });

  it('reads [router] limits and keeps the defaults of keys left out', () => {
    expect(parseFleetConfig('', SRC).router).toEqual({ max_message_mb: 1024, restart_limit: 5, heartbeat_timeout_seconds: 2.5, host_linger_seconds: 30 });
    const c = parseFleetConfig('[router]\nmax_message_mb = 0.5\nrestart_limit = 0\nhost_linger_seconds = 0\n', SRC);
    expect(c.router).toEqual({ max_message_mb: 0.5, restart_limit: 0, heartbeat_timeout_seconds: 2.5, host_linger_seconds: 0 });
  });

  it.each([
    ['nothing: on, loopback, a port the OS picks, /metrics open', '', { enabled: true, listen: '127.0.0.1:0', metrics_auth: false }],
    ['a fixed port', '[http]\nlisten = "127.0.0.1:9464"\n', { enabled: true, listen: '127.0.0.1:9464', metrics_auth: false }],
    ['off', '[http]\nenabled = false\n', { enabled: false, listen: '127.0.0.1:0', metrics_auth: false }],
    ['metrics behind the token', '[http]\nmetrics_auth = true\n', { enabled: true, listen: '127.0.0.1:0', metrics_auth: true }],
    ['IPv6 loopback', '[http]\nlisten = "[::1]:9464"\n', { enabled: true, listen: '[::1]:9464', metrics_auth: false }],
  ])('reads [http]: %s', (_name, text, expected) => {
    expect(parseFleetConfig(text, SRC).http).toEqual(expected);
  });

  it.each([
    ['no port', '[http]\nlisten = "127.0.0.1"\n', /http\.listen must be "HOST:PORT"/],
    ['a port too big', '[http]\nlisten = "127.0.0.1:70000"\n', /http\.listen must be "HOST:PORT"/],
    ['a host name', '[http]\nlisten = "example.com:80"\n', /http\.listen must be "HOST:PORT"/],
    ['a number', '[http]\nlisten = 9464\n', /http\.listen must be "HOST:PORT"/],
    ['enabled as a string', '[http]\nenabled = "yes"\n', /http\.enabled must be true or false/],
    ['an unknown key', '[http]\nport = 1\n', /http\.port is not a known key; allowed here: enabled, listen, metrics_auth/],
  ])('refuses [http] with %s', (_name, text, message) => {
    expect(() => parseFleetConfig(text, SRC)).toThrow(message);
  });

  it('reads [replay] bounds (output kept while no client is attached) and keeps the defaults of keys left out', () => {
    expect(parseFleetConfig('', SRC).replay).toEqual({ max_messages: 1000, max_mb: 1 });
    expect(parseFleetConfig('[replay]\nmax_messages = 10\n', SRC).replay).toEqual({ max_messages: 10, max_mb: 1 });
    expect(parseFleetConfig('[replay]\nmax_mb = 0.25\n', SRC).replay).toEqual({ max_messages: 1000, max_mb: 0.25 });
    expect(() => parseFleetConfig('[replay]\nmax_messages = 1.5\n', SRC)).toThrow(/replay\.max_messages.*whole number/);
    expect(() => parseFleetConfig('[replay]\nmax_mb = -1\n', SRC)).toThrow(/replay\.max_mb.*>= 0/);
    expect(() => parseFleetConfig('[replay]\nmax_mb = 8\n', SRC)).toThrow(/replay\.max_mb.*at most 3/);
  });

  it('reads the llmspell adapter fields, defaulting none of them', () => {
    const text = `
[runtimes.lua]
argv = ["llmspell", "kernel", "start", "--connection-file", "{connection_file}"]
adapter = "llmspell"
interrupt = "restart"
interrupt_grace_seconds = 2.5
isolate = "auto"
[providers.dev]
profile = "development"
[providers.prod]
profile = "openai-prod_2"
`;
    const c = parseFleetConfig(text, SRC);
    expect(c.runtimes.lua).toEqual({
      argv: ['llmspell', 'kernel', 'start', '--connection-file', '{connection_file}'],
      adapter: 'llmspell',
      interrupt: 'restart',
      interrupt_grace_seconds: 2.5,
      isolate: 'auto',
    });
    expect(c.providers.dev).toEqual({ profile: 'development' });
    expect(c.providers.prod).toEqual({ profile: 'openai-prod_2' });
    const plain = parseFleetConfig('[runtimes.x]\nkernelspec = "k"\n[providers.p]\nconfig = "/c.toml"\n', SRC);
    expect(Object.keys(plain.runtimes.x!)).toEqual(['kernelspec']);
    expect(Object.keys(plain.providers.p!)).toEqual(['config']);
  });

  it.each([
    ['interrupt = "notice"', { interrupt: 'notice' }],
    ['interrupt = "restart"', { interrupt: 'restart' }],
    ['interrupt_grace_seconds = 0.1', { interrupt_grace_seconds: 0.1 }],
    ['isolate = "on"', { isolate: 'on' }],
    ['isolate = "off"', { isolate: 'off' }],
  ])('accepts %s', (line, fields) => {
    expect(parseFleetConfig(`[runtimes.x]\nkernelspec = "k"\n${line}\n`, SRC).runtimes.x).toEqual({ kernelspec: 'k', ...fields });
  });

  it.each([
    ['none by default', '', {}, undefined],
    ['a count', '[pool]\n"python/openai" = 1\n', { 'python/openai': { count: 1 } }, undefined],
    ['the long form, and a cap', 'pool_max_mb = 512\n[pool]\n"python/ollama" = { count = 2, startup = "import json", cwd = "~/nb" }\n', { 'python/ollama': { count: 2, startup: 'import json', cwd: '~/nb' } }, 512],
    ['a sub-table, for multi-line code', '[pool."python/openai"]\ncount = 1\nstartup = """\nimport json\nx = 1\n"""\n', { 'python/openai': { count: 1, startup: 'import json\nx = 1\n' } }, undefined],
    ['a user runtime', '[runtimes.r]\nargv = ["r", "{connection_file}"]\n[pool]\n"r/openai" = 0\n', { 'r/openai': { count: 0 } }, undefined],
  ])('reads [pool]: %s', (_name, text, pool, maxMb) => {
    const c = parseFleetConfig(text, SRC);
    expect(c.pool).toEqual(pool);
    expect(c.pool_max_mb).toBe(maxMb);
  });

  it('accepts a default_runtime defined only by the user', () => {
    const c = parseFleetConfig('default_runtime = "r"\n[runtimes.r]\nargv = ["r-kernel", "{connection_file}"]\n', SRC);
    expect(c.default_runtime).toBe('r');
  });

  it.each<[string, string, string, number, RegExp?]>([
    ['unknown top-level key', 'foo = 1', 'foo', 1, /allowed here: default_runtime/],
    ['default_runtime not a string', 'default_runtime = 3', 'default_runtime', 1, /non-empty string/],
    ['default_runtime undefined', 'default_runtime = "cobol"', 'default_runtime', 1, /defined runtime \(lua, javascript, python\)/],
    ['default_provider undefined', 'default_provider = "acme"', 'default_provider', 1, /defined provider \(openai, anthropic, gemini, ollama\)/],
    ['negative linger', 'linger_seconds = -1', 'linger_seconds', 1, />= 0/],
    ['linger not a number', 'linger_seconds = "5m"', 'linger_seconds', 1, /number/],
    ['negative manager idle time', 'manager_idle_seconds = -1', 'manager_idle_seconds', 1, />= 0/],
    ['manager idle time not a number', 'manager_idle_seconds = "10m"', 'manager_idle_seconds', 1, /number/],
    ['runtimes not a table', 'runtimes = 3', 'runtimes', 1, /named tables/],
    ['runtime not a table', 'runtimes = { x = 1 }', 'runtimes.x', 1, /must be a table/],
    ['bad runtime name', '[runtimes."a b"]\nkernelspec = "k"', 'runtimes.a b', 1, /bad name/],
    ['neither kernelspec nor argv', '[runtimes.x]\nlanguage = "x"', 'runtimes.x', 1, /exactly one of kernelspec/],
    ['both kernelspec and argv', '[runtimes.x]\nkernelspec = "k"\nargv = ["k", "{connection_file}"]', 'runtimes.x', 1, /exactly one/],
    ['unknown runtime key', '[runtimes.x]\nkernelspec = "k"\ncmd = "x"', 'runtimes.x.cmd', 3, /allowed here: kernelspec, argv/],
    ['bad connection', '[runtimes.lua]\nargv = ["l", "{connection_file}"]\nconnection = "kernel"', 'runtimes.lua.connection', 3, /"router-writes", "kernel-writes"/],
    ['kernelspec that writes its file', '[runtimes.x]\nkernelspec = "k"\nconnection = "kernel-writes"', 'runtimes.x.connection', 3, /router-writes/],
    ['bad kernelspec name', '[runtimes.x]\nkernelspec = "../evil"', 'runtimes.x.kernelspec', 2, /kernelspec name/],
    ['empty argv', '[runtimes.x]\nargv = []', 'runtimes.x.argv', 2, /non-empty array/],
    ['argv with a number', '[runtimes.x]\nargv = ["a", 1, "{connection_file}"]', 'runtimes.x.argv[1]', 2, /string/],
    ['argv with an empty program', '[runtimes.x]\nargv = ["", "{connection_file}"]', 'runtimes.x.argv[0]', 2, /program/],
    ['argv with unknown placeholder', '[runtimes.x]\nargv = ["a", "--f={connection_fil}", "{connection_file}"]', 'runtimes.x.argv[1]', 2, /\{connection_fil\}/],
    ['argv without connection file', '[runtimes.x]\nargv = ["a", "{kernel_id}"]', 'runtimes.x.argv', 2, /\{connection_file\}/],
    ['bad interrupt_mode', '[runtimes.x]\nkernelspec = "k"\ninterrupt_mode = "kill"', 'runtimes.x.interrupt_mode', 3, /"signal", "message"/],
    ['zero startup_timeout', '[runtimes.x]\nkernelspec = "k"\nstartup_timeout = 0', 'runtimes.x.startup_timeout', 3, /> 0/],
    ['env not a table', '[runtimes.x]\nkernelspec = "k"\nenv = "A=1"', 'runtimes.x.env', 3, /table/],
    ['env bad name', '[runtimes.x]\nkernelspec = "k"\nenv = { "1A" = "x" }', 'runtimes.x.env.1A', 3, /environment variable name/],
    ['unknown provider key', '[providers.p]\napi_key = "x"', 'providers.p.api_key', 2, /allowed here: config, env/],
    ['provider config not a string', '[providers.p]\nconfig = 1', 'providers.p.config', 2, /string/],
    ['router not a table', 'router = 1', 'router', 1, /\[router\]/],
    ['unknown router key', '[router]\nmax_message = 5', 'router.max_message', 2, /allowed here: max_message_mb, restart_limit, heartbeat_timeout_seconds, host_linger_seconds/],
    ['negative host_linger_seconds', '[router]\nhost_linger_seconds = -1', 'router.host_linger_seconds', 2, />= 0/],
    ['host_linger_seconds not a number', '[router]\nhost_linger_seconds = "30"', 'router.host_linger_seconds', 2, /number/],
    ['zero max_message_mb', '[router]\nmax_message_mb = 0', 'router.max_message_mb', 2, /> 0/],
    ['negative restart_limit', '[router]\nrestart_limit = -1', 'router.restart_limit', 2, />= 0/],
    ['fractional restart_limit', '[router]\nrestart_limit = 1.5', 'router.restart_limit', 2, /whole number/],
    ['zero heartbeat timeout', '[router]\nheartbeat_timeout_seconds = 0', 'router.heartbeat_timeout_seconds', 2, /> 0/],
    // the line of a key below other tables, and of an array element on a continuation line
    ['a key in a later table', 'linger_seconds = 5\n\n[runtimes.lua]\nargv = ["l", "{connection_file}"]\n\n[router]\n# limits\nrestart_limit = 0.5', 'router.restart_limit', 8, /whole number/],
    ['a bad element of a multi-line argv', '[runtimes.lua]\nargv = [\n  "l",\n  "{connection_fil}",\n]', 'runtimes.lua.argv[1]', 2, /\{connection_fil\}/],
    ['a dotted key', 'router.max_message_mb = -2', 'router.max_message_mb', 1, /> 0/],
    // fields for the llmspell adapter (issue #8)
    ['unknown adapter', '[runtimes.x]\nkernelspec = "k"\nadapter = "llm"', 'runtimes.x.adapter', 3, /must be one of "llmspell", "none" \(got "llm"\)/],
    ['the adapter on a kernelspec', '[runtimes.x]\nkernelspec = "k"\nadapter = "llmspell"', 'runtimes.x.adapter', 3, /needs an argv runtime/],
    ['bad interrupt', '[runtimes.x]\nkernelspec = "k"\ninterrupt = "kill"', 'runtimes.x.interrupt', 3, /must be one of "notice", "restart" \(got "kill"\)/],
    ['zero interrupt grace', '[runtimes.x]\nkernelspec = "k"\ninterrupt_grace_seconds = 0', 'runtimes.x.interrupt_grace_seconds', 3, /must be a number > 0 \(got 0\)/],
    ['interrupt grace as a string', '[runtimes.x]\nkernelspec = "k"\ninterrupt_grace_seconds = "5s"', 'runtimes.x.interrupt_grace_seconds', 3, /number > 0 \(got "5s"\)/],
    ['bad isolate', '[runtimes.x]\nkernelspec = "k"\nisolate = true', 'runtimes.x.isolate', 3, /must be one of "auto", "on", "off" \(got true\)/],
    ['profile with a path', '[providers.p]\nprofile = "../prod"', 'providers.p.profile', 2, /llmspell profile name: letters, digits, "-", "_" \(got "\.\.\/prod"\)/],
    ['empty profile', '[providers.p]\nprofile = ""', 'providers.p.profile', 2, /non-empty string/],
    // resource limits (issue #10): each names its key
    ['zero memory_mb', '[runtimes.x]\nkernelspec = "k"\nmemory_mb = 0', 'runtimes.x.memory_mb', 3, /must be a number > 0 \(got 0\)/],
    ['memory_mb as a string', '[providers.p]\nmemory_mb = "512M"', 'providers.p.memory_mb', 2, /number > 0 \(got "512M"\)/],
    ['negative cpus', '[runtimes.x]\nkernelspec = "k"\ncpus = -0.5', 'runtimes.x.cpus', 3, /must be a number > 0 \(got -0.5\)/],
    ['zero pids', '[providers.p]\npids = 0', 'providers.p.pids', 2, /must be a number >= 1 \(got 0\)/],
    ['fractional pids', '[runtimes.x]\nkernelspec = "k"\npids = 2.5', 'runtimes.x.pids', 3, /whole number/],
    ['zero cpu_seconds', '[runtimes.x]\nkernelspec = "k"\ncpu_seconds = 0', 'runtimes.x.cpu_seconds', 3, /> 0/],
    ['zero idle_cull_seconds', '[providers.p]\nidle_cull_seconds = 0', 'providers.p.idle_cull_seconds', 2, /> 0/],
    ['memory_warn_percent over 100', '[runtimes.x]\nkernelspec = "k"\nmemory_warn_percent = 120', 'runtimes.x.memory_warn_percent', 3, /percentage > 0 and <= 100 \(got 120\)/],
    ['zero max_backends', 'max_backends = 0', 'max_backends', 1, /must be a number >= 1 \(got 0\)/],
    ['fractional max_backends', 'max_backends = 1.5', 'max_backends', 1, /whole number/],
    // container backends (issue #10)
    ['bad launcher', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nlauncher = "docker"', 'runtimes.x.launcher', 3, /must be one of "process", "container", "kubernetes" \(got "docker"\)/],
    ['container without image', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nlauncher = "container"', 'runtimes.x.image', 1, /must be set exactly when launcher = "container"/],
    ['image without the container launcher', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nimage = "localhost/k"', 'runtimes.x.image', 3, /must be set exactly when launcher = "container"/],
    ['container with a kernelspec', '[runtimes.x]\nkernelspec = "k"\nlauncher = "container"\nimage = "i"', 'runtimes.x.launcher', 3, /needs argv \(the command run inside the image\)/],
    ['container behind the adapter', '[runtimes.x]\nargv = ["llmspell", "{connection_file}"]\nadapter = "llmspell"\nlauncher = "container"\nimage = "i"', 'runtimes.x.launcher', 4, /llmspell adapter/],
    ['container writing its own file', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nconnection = "kernel-writes"\nlauncher = "container"\nimage = "i"', 'runtimes.x.launcher', 4, /kernel-writes/],
    ['empty image', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nlauncher = "container"\nimage = ""', 'runtimes.x.image', 4, /non-empty string/],
    ['image like a flag', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nlauncher = "container"\nimage = "--privileged"', 'runtimes.x.image', 4, /must be an image name/],
    // curve (issue #11): the keys go in the connection file the manager writes
    ['curve not a boolean', '[runtimes.x]\nargv = ["k", "{connection_file}"]\ncurve = "yes"', 'runtimes.x.curve', 3, /must be true or false \(got "yes"\)/],
    ['curve with a kernel that writes its file', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nconnection = "kernel-writes"\ncurve = true', 'runtimes.x.curve', 4, /cannot be true with connection = "kernel-writes" or the llmspell adapter/],
    ['curve behind the llmspell adapter', '[runtimes.x]\nargv = ["llmspell", "{connection_file}"]\nadapter = "llmspell"\ncurve = true', 'runtimes.x.curve', 4, /llmspell adapter: the curve keys go in the connection file the manager writes/],
    ['curve behind the adapter llmspell gets by default', '[runtimes.x]\nargv = ["/opt/bin/llmspell", "{connection_file}"]\ncurve = true', 'runtimes.x.curve', 3, /llmspell adapter/],
    ['bad container_engine', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nlauncher = "container"\nimage = "i"\ncontainer_engine = "lxc"', 'runtimes.x.container_engine', 5, /"auto", "podman", "docker" \(got "lxc"\)/],
    // pod backends (issue #11)
    ['kubernetes without image', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nlauncher = "kubernetes"', 'runtimes.x.image', 1, /must be set exactly when launcher = "container" or "kubernetes"/],
    ['kubernetes with a kernelspec', '[runtimes.x]\nkernelspec = "k"\nlauncher = "kubernetes"\nimage = "i"', 'runtimes.x.launcher', 3, /needs argv \(the command run in the pod\)/],
    ['kubernetes behind the adapter', '[runtimes.x]\nargv = ["llmspell", "{connection_file}"]\nadapter = "llmspell"\nlauncher = "kubernetes"\nimage = "i"', 'runtimes.x.launcher', 4, /llmspell adapter/],
    ['namespace without kubernetes', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nnamespace = "ns"', 'runtimes.x.namespace', 3, /only used with launcher = "kubernetes"; remove namespace/],
    ['upper-case namespace', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nlauncher = "kubernetes"\nimage = "i"\nnamespace = "Kernels"', 'runtimes.x.namespace', 5, /Kubernetes namespace name/],
    ['node_selector value not a string', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nlauncher = "kubernetes"\nimage = "i"\nnode_selector = { pool = 1 }', 'runtimes.x.node_selector.pool', 5, /must be a string/],
    ['node_selector bad key', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nlauncher = "kubernetes"\nimage = "i"\nnode_selector = { "a b" = "x" }', 'runtimes.x.node_selector.a b', 5, /not a Kubernetes label key/],
    ['relative pod_template', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nlauncher = "kubernetes"\nimage = "i"\npod_template = "pod.yaml"', 'runtimes.x.pod_template', 5, /absolute path or start with ~\//],
    ['bad service_account', '[runtimes.x]\nargv = ["k", "{connection_file}"]\nlauncher = "kubernetes"\nimage = "i"\nservice_account = "Kernel_SA"', 'runtimes.x.service_account', 5, /ServiceAccount name/],
    // the pre-warmed pool (issue #12)
    ['pool not a table', 'pool = 1', 'pool', 1, /must be a table: \[pool\]/],
    ['pool key without a provider', '[pool]\npython = 1', 'pool.python', 2, /must be a requirement "runtime\/provider"/],
    ['pool key with a group', '[pool]\n"python/openai#g" = 1', 'pool.python/openai#g', 2, /must be a requirement "runtime\/provider"/],
    ['negative spare count', '[pool]\n"python/openai" = -1', 'pool.python/openai', 2, /whole number >= 0/],
    ['fractional spare count', '[pool]\n"python/openai" = 0.5', 'pool.python/openai', 2, /whole number >= 0/],
    ['spare count as a string', '[pool]\n"python/openai" = "1"', 'pool.python/openai', 2, /whole number >= 0 or a table/],
    ['pool entry with an unknown key', '[pool]\n"python/openai" = { count = 1, code = "x" }', 'pool.python/openai', 2, /whole number >= 0 or a table/],
    ['pool entry without count', '[pool."python/openai"]\nstartup = "import json"', 'pool.python/openai', 1, /whole number >= 0 or a table/],
    ['pool entry with a relative cwd', '[pool]\n"python/openai" = { count = 1, cwd = "work" }', 'pool.python/openai', 2, /whole number >= 0 or a table/],
    ['pool of an unknown runtime', '[pool]\n"cobol/openai" = 1', 'pool.cobol/openai', 2, /unknown runtime "cobol"; defined: lua, javascript, python/],
    ['pool of an unknown provider', '\n[pool]\n"python/acme" = 1', 'pool.python/acme', 3, /unknown provider "acme"; defined: openai, anthropic, gemini, ollama/],
    ['zero pool_max_mb', 'pool_max_mb = 0', 'pool_max_mb', 1, /must be a number > 0 \(got 0\)/],
  ])('%s -> BAD_CONFIG at line %i of %s', (_name, text, key, line, message) => {
    const err = configError(text);
    expect(err.code).toBe('BAD_CONFIG');
    expect(err.context).toMatchObject({ source: SRC, key, line });
    // file:line: is what editors and terminals turn into a jump to the spot
    expect(err.message.startsWith(`${SRC}:${line}: ${key} `)).toBe(true);
    if (message) expect(err.message).toMatch(message);
  });

  it('never echoes env values, which may be API keys', () => {
    const err = configError('[providers.openai]\nenv = { OPENAI_API_KEY = 123456789 }');
    expect(err.context.key).toBe('providers.openai.env.OPENAI_API_KEY');
    expect(err.message).not.toContain('123456789');
  });

  it('reports TOML syntax errors with file and line', () => {
    const err = configError('default_runtime = "lua"\n[runtimes.lua\nargv = []\n');
    expect(err.code).toBe('BAD_CONFIG');
    expect(err.context).toMatchObject({ source: SRC, line: 2 });
    expect(err.message).toMatch(/^\/etc\/llmspell\/fleet\.toml:2:\d+: TOML syntax error/);
  });
});

describe('loadFleetConfig', () => {
  let tmp: string;
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'fleet-config-'));
    await mkdir(join(tmp, 'withfile'));
    await writeFile(join(tmp, 'withfile', 'fleet.toml'), 'linger_seconds = 7\n', { mode: 0o600 });
    await writeFile(join(tmp, 'other.toml'), 'default_provider = "ollama"\n', { mode: 0o600 });
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('uses built-in defaults when the default file is absent', async () => {
    const c = await loadFleetConfig({ env: { HOME: tmp, LLMSPELL_FLEET_HOME: join(tmp, 'empty') } });
    expect(c).toEqual(defaultFleetConfig());
  });

  it('reads the file at the default path', async () => {
    const c = await loadFleetConfig({ env: { HOME: tmp, LLMSPELL_FLEET_HOME: join(tmp, 'withfile') } });
    expect(c.linger_seconds).toBe(7);
    expect(c.source).toBe(join(tmp, 'withfile', 'fleet.toml'));
  });

  it('reads the file named by LLMSPELL_FLEET_CONFIG', async () => {
    const c = await loadFleetConfig({ env: { HOME: tmp, LLMSPELL_FLEET_CONFIG: join(tmp, 'other.toml') } });
    expect(c.default_provider).toBe('ollama');
  });

  it.each([
    ['LLMSPELL_FLEET_CONFIG', { env: { HOME: '/nowhere', LLMSPELL_FLEET_CONFIG: '/nowhere/missing.toml' } }, /LLMSPELL_FLEET_CONFIG/],
    ['the path option', { path: '/nowhere/missing.toml', env: { HOME: '/nowhere' } }, /pass an existing file/],
  ])('a missing file named by %s is an error', async (_name, options, fix) => {
    const err = await loadFleetConfig(options).catch((e: unknown) => e);
    expect(isFleetError(err) && err.code).toBe('BAD_CONFIG');
    expect(isFleetError(err) && err.context.source).toBe('/nowhere/missing.toml');
    expect((err as Error).message).toMatch(/does not exist/);
    expect((err as Error).message).toMatch(fix);
  });
});
