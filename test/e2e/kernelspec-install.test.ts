/**
 * The built CLI installs a kernelspec that the real `jupyter kernelspec list` finds, where and as
 * we say. Builds nothing: `npm test` runs the build first.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import type { ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { detectSysPrefix } from '../../src/kernelspec/paths.js';
import { LOGO_FILES } from '../../src/kernelspec/spec.js';
import { STASHED_CA_VARIABLE } from '../../src/shared/extra-ca-certs.js';
import { stopFleetManager } from '../helpers/fleet-env.js';
import { waitForNoProcesses } from '../helpers/processes.js';
import { runToExit } from '../helpers/run.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cli = path.join(repo, 'dist', 'src', 'cli', 'main.js');
/** What the router kernelspec runs: the bundle scripts/bundle.mjs writes after tsc. */
const routerEntry = path.join(repo, 'dist', 'bundle', 'main.js');
/** In front of it, the kernel stub (scripts/build-stub.mjs; setup.sh installs gcc): the shared router host's way in. */
const stub = path.join(repo, 'dist', 'native', 'kernel-stub');
const venv = path.join(repo, '.venv');
const jupyter = path.join(venv, 'bin', 'jupyter');
const ROUTER_ARGS = ['router', '--connection-file', '{connection_file}', '--spec-dir', '{resource_dir}'];

type Env = Record<string, string>;

interface ListedSpec {
  resource_dir: string;
  spec: { argv: string[]; display_name: string; language: string; interrupt_mode: string; metadata: Record<string, unknown> };
}

let tmp: string;

/** The inherited environment minus everything that steers Jupyter's paths, with a private HOME. */
function cleanEnv(extra: Env = {}): Env {
  const steering = ['JUPYTER_PATH', 'JUPYTER_DATA_DIR', 'JUPYTER_CONFIG_DIR', 'XDG_DATA_HOME', 'VIRTUAL_ENV', 'JUPYTER_PLATFORM_DIRS'];
  const env: Env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !steering.includes(key)) env[key] = value;
  }
  return { ...env, HOME: path.join(tmp, 'home'), ...extra };
}

function runCli(args: string[], env: Env = cleanEnv()) {
  return runToExit(process.execPath, [cli, ...args], { env });
}

async function listKernels(env: Env): Promise<Record<string, ListedSpec>> {
  const result = await runToExit(jupyter, ['kernelspec', 'list', '--json'], { env });
  if (result.code !== 0) throw new Error(`jupyter kernelspec list failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { kernelspecs: Record<string, ListedSpec> }).kernelspecs;
}

beforeAll(() => {
  for (const built of [cli, routerEntry, stub]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: build first with \`npm run build\` (\`npm test\` does it for you)`);
  }
  if (!existsSync(jupyter)) {
    throw new Error(`${jupyter} is missing: create the venv with jupyter_client (see README, development set-up)`);
  }
});

beforeEach(() => {
  tmp = realpathSync(mkdtempSync(path.join(tmpdir(), 'fleet-e2e-kernelspec-')));
});

afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('llmspell-fleet install / uninstall with real Jupyter', () => {
  it('installs into --prefix where jupyter kernelspec list finds it, with our argv, language, interrupt mode and logos', async () => {
    const result = await runCli(['install', '--prefix', tmp]);
    const kernelDir = path.join(tmp, 'share', 'jupyter', 'kernels', 'llmspell-fleet');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`Installed kernelspec llmspell-fleet in ${kernelDir} (router: the shared router host, through the kernel stub)\n`);

    const listed = (await listKernels(cleanEnv({ JUPYTER_PATH: path.join(tmp, 'share', 'jupyter') })))['llmspell-fleet'];
    expect(listed?.resource_dir).toBe(kernelDir);
    expect(listed?.spec).toMatchObject({
      argv: [stub, process.execPath, routerEntry, ...ROUTER_ARGS],
      display_name: 'LLMSpell Fleet',
      language: 'lua',
      interrupt_mode: 'message',
      metadata: { llmspell: {}, debugger: false },
    });
    for (const logo of LOGO_FILES) {
      expect(readFileSync(path.join(kernelDir, logo)).equals(readFileSync(path.join(repo, 'kernelspec', logo)))).toBe(true);
    }
  });

  it.each<[string, (t: string) => Env, (t: string) => string]>([
    ['JUPYTER_DATA_DIR', (t) => ({ JUPYTER_DATA_DIR: path.join(t, 'jdd') }), (t) => path.join(t, 'jdd')],
    ['XDG_DATA_HOME', (t) => ({ XDG_DATA_HOME: path.join(t, 'xdg') }), (t) => path.join(t, 'xdg', 'jupyter')],
    ['only HOME', () => ({}), (t) => path.join(t, 'home', '.local', 'share', 'jupyter')],
  ])('installs --user where jupyter_core looks, given %s', async (_title, extraEnv, expectedDataDir) => {
    const env = cleanEnv(extraEnv(tmp));
    const kernelDir = path.join(expectedDataDir(tmp), 'kernels', 'llmspell-fleet');
    const result = await runCli(['install', '--user'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`Installed kernelspec llmspell-fleet in ${kernelDir} (router: the shared router host, through the kernel stub)\n`);
    expect((await listKernels(env))['llmspell-fleet']?.resource_dir).toBe(kernelDir);
  });

  it('installs into the active venv with --sys-prefix', async () => {
    const fakeVenv = path.join(tmp, 'venv');
    const result = await runCli(['install', '--sys-prefix'], cleanEnv({ VIRTUAL_ENV: fakeVenv }));
    expect(result.code).toBe(0);
    const listed = await listKernels(cleanEnv({ JUPYTER_PATH: path.join(fakeVenv, 'share', 'jupyter') }));
    expect(listed['llmspell-fleet']?.resource_dir).toBe(path.join(fakeVenv, 'share', 'jupyter', 'kernels', 'llmspell-fleet'));
  });

  it("asks the real python for sys.prefix when no venv is active", async () => {
    const prefix = await detectSysPrefix({ env: cleanEnv(), python: path.join(venv, 'bin', 'python') });
    expect(realpathSync(prefix)).toBe(realpathSync(venv));
  });

  it('installs an alias kernelspec next to the plain one', async () => {
    expect((await runCli(['install', '--prefix', tmp])).code).toBe(0);
    const result = await runCli(['install', '--prefix', tmp, '--runtime', 'ipykernel', '--provider', 'openai']);
    expect(result.code).toBe(0);
    const listed = await listKernels(cleanEnv({ JUPYTER_PATH: path.join(tmp, 'share', 'jupyter') }));
    expect(listed['llmspell-fleet']).toBeDefined();
    expect(listed['llmspell-fleet-ipykernel-openai']?.spec).toMatchObject({
      argv: [stub, process.execPath, routerEntry, ...ROUTER_ARGS, '--runtime', 'ipykernel', '--provider', 'openai'],
      display_name: 'LLMSpell Fleet (ipykernel, openai)',
      language: 'lua',
      interrupt_mode: 'message',
      metadata: { llmspell: { runtime: 'ipykernel', provider: 'openai' }, debugger: false },
    });
  });

  it('uninstalls, and a second uninstall fails saying where it looked', async () => {
    const env = cleanEnv({ JUPYTER_PATH: path.join(tmp, 'share', 'jupyter') });
    const kernelDir = path.join(tmp, 'share', 'jupyter', 'kernels', 'llmspell-fleet');
    expect((await runCli(['install', '--prefix', tmp])).code).toBe(0);
    expect((await listKernels(env))['llmspell-fleet']).toBeDefined();

    const removed = await runCli(['uninstall', '--prefix', tmp]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toBe(`Removed kernelspec llmspell-fleet from ${kernelDir}\n`);
    expect((await listKernels(env))['llmspell-fleet']).toBeUndefined();

    const again = await runCli(['uninstall', '--prefix', tmp]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(kernelDir);
  });

  it("starts the router through jupyter_client with kernel.json's env: NODE_EXTRA_CA_CERTS empty, the user's value in our variable", async () => {
    expect((await runCli(['install', '--prefix', tmp])).code).toBe(0);
    // jupyter_client fills ${NODE_EXTRA_CA_CERTS} from its own environment; /proc/PID/environ is what the router was started with.
    const script = [
      'import json, os',
      'from jupyter_client import KernelManager',
      "km = KernelManager(kernel_name='llmspell-fleet')",
      'km.start_kernel()',
      'try:',
      "    raw = open(f'/proc/{km.provisioner.process.pid}/environ', 'rb').read().decode()",
      "    print(json.dumps(dict(kv.split('=', 1) for kv in raw.split('\\0') if '=' in kv)))",
      'finally:',
      '    km.shutdown_kernel(now=True)',
    ].join('\n');
    const caFile = path.join(tmp, 'corporate-ca.pem');
    const env = cleanEnv({
      JUPYTER_PATH: path.join(tmp, 'share', 'jupyter'),
      NODE_EXTRA_CA_CERTS: caFile,
      // A private backend that cannot start (no llmspell here): the router spawns nothing.
      LLMSPELL_FLEET_MODE: 'local',
      LLMSPELL_FLEET_HOME: path.join(tmp, 'fleet'),
    });
    const result = await runToExit(path.join(venv, 'bin', 'python'), ['-c', script], { env });
    expect(result.code, result.stderr).toBe(0);
    const routerEnv = JSON.parse(result.stdout.trim().split('\n').pop()!) as Env;
    expect(routerEnv.NODE_EXTRA_CA_CERTS).toBe('');
    expect(routerEnv[STASHED_CA_VARIABLE]).toBe(caFile);
  });

  it('npm run build wrote the bundle after tsc: the kernelspec never runs a stale one', () => {
    // tsc rewrites every output; a bundle older than them is one that `tsc` alone left behind.
    expect(statSync(routerEntry).mtimeMs, `${routerEntry} is older than ${cli}: run \`npm run build\``).toBeGreaterThanOrEqual(statSync(cli).mtimeMs);
  });

  it('runs the router kernelspec from the bundle: jupyter_client gets a result through it, from a manager it started on the unbundled CLI', async () => {
    expect((await runCli(['install', '--prefix', tmp])).code).toBe(0);
    const home = path.join(tmp, 'fleet');
    const config = path.join(tmp, 'fleet.toml');
    const ipykernel = [path.join(venv, 'bin', 'python'), '-m', 'ipykernel_launcher', '-f', '{connection_file}'];
    writeFileSync(config, `default_runtime = "ipy"\ndefault_provider = "none"\nlinger_seconds = 0\n[runtimes.ipy]\nargv = ${JSON.stringify(ipykernel)}\n[providers.none]\n`, { mode: 0o600 });
    const script = [
      'import json',
      'from jupyter_client import KernelManager',
      "km = KernelManager(kernel_name='llmspell-fleet')",
      'km.start_kernel()',
      'try:',
      "    cmdline = open(f'/proc/{km.provisioner.process.pid}/cmdline', 'rb').read().decode().split('\\0')[:-1]",
      '    kc = km.client()',
      '    kc.start_channels()',
      '    kc.wait_for_ready(timeout=60)',
      '    outputs = []',
      "    reply = kc.execute_interactive('6 * 7', timeout=60, output_hook=outputs.append)",
      "    results = [m['content']['data']['text/plain'] for m in outputs if m['msg_type'] == 'execute_result']",
      '    kc.stop_channels()',
      "    print(json.dumps({'cmdline': cmdline, 'status': reply['content']['status'], 'results': results}))",
      'finally:',
      '    km.shutdown_kernel(now=True)',
    ].join('\n');
    const env = cleanEnv({ JUPYTER_PATH: path.join(tmp, 'share', 'jupyter'), LLMSPELL_FLEET_HOME: home, LLMSPELL_FLEET_CONFIG: config });
    try {
      const result = await runToExit(path.join(venv, 'bin', 'python'), ['-c', script], { env });
      expect(result.code, result.stderr).toBe(0);
      const session = JSON.parse(result.stdout.trim().split('\n').pop()!) as { cmdline: string[]; status: string; results: string[] };
      expect(session.cmdline.slice(0, 4)).toEqual([stub, process.execPath, routerEntry, 'router']);
      expect(session).toMatchObject({ status: 'ok', results: ['42'] });

      const manager = await ManagerClient.connect({ home, autostart: false });
      try {
        const { pid } = await manager.request<ManagerInfo>({ op: 'ping' });
        const managerArgv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, 4);
        expect(managerArgv).toEqual([process.execPath, cli, 'manager', '--foreground']);
      } finally {
        manager.close();
      }
    } finally {
      await stopFleetManager(home);
      // The manager, its backend and the router all carry tmp in their environment: none may outlive the test.
      await waitForNoProcesses(tmp);
    }
  });

  it.each([
    ['a bad --name', ['install', '--prefix', '{tmp}', '--name', 'bad name!'], 'invalid kernelspec name'],
    ['two locations', ['install', '--user', '--prefix', '{tmp}'], '--user and --prefix cannot be combined'],
  ])('exits 1 on %s and writes nothing', async (_title, args, says) => {
    const result = await runCli(args.map((a) => a.replace('{tmp}', tmp)));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(says);
    expect(result.stdout).toBe('');
    expect(existsSync(path.join(tmp, 'share'))).toBe(false);
    expect(existsSync(path.join(tmp, 'home'))).toBe(false);
  });

  it.each(['install', 'uninstall'])('%s --help lists the location flags', async (command) => {
    const result = await runCli([command, '--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--user', '--prefix <dir>', '--sys-prefix', '--name <name>', '--runtime <name>', '--provider <name>']) {
      expect(result.stdout).toContain(flag);
    }
  });
});
