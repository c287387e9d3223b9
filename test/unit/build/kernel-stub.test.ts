/**
 * native/kernel-stub.c, built by scripts/build-stub.mjs with the machine's C compiler, run for
 * real. The test plays the router host's side of docs/router-host-protocol.md over a real unix
 * socket (our own protocol: the host's own tests use the real host), and a shell script stands
 * for the standalone router the stub falls back to.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { STUB_SOURCE, buildStub, findCompiler } from '../../../scripts/build-stub.mjs';
import { requirePackageRoot } from '../../../src/shared/package.js';
import { runToExit } from '../../helpers/run.js';

describe('findCompiler', () => {
  const on = (files: string[]) => (file: string) => files.includes(file);
  it.each([
    ['$CC first, found on PATH', { CC: 'clang', PATH: '/a:/b' }, ['/b/clang', '/a/cc'], '/b/clang'],
    ['cc before gcc', { PATH: '/usr/bin' }, ['/usr/bin/gcc', '/usr/bin/cc'], '/usr/bin/cc'],
    ['gcc when there is no cc', { PATH: '/usr/bin' }, ['/usr/bin/gcc'], '/usr/bin/gcc'],
    ['$CC as a path', { CC: '/opt/cc', PATH: '' }, ['/opt/cc'], '/opt/cc'],
    ['none', { PATH: '/usr/bin' }, [], undefined],
    ['no PATH at all', {}, ['/usr/bin/cc'], undefined],
  ])('%s', (_name, env, files, expected) => {
    expect(findCompiler(env, on(files))).toBe(expected);
  });
});

let root: string;
let stub: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'fleet-stub-'));
  mkdirSync(path.join(root, 'native'));
  writeFileSync(path.join(root, STUB_SOURCE), readFileSync(path.join(requirePackageRoot(), STUB_SOURCE)));
  const built = buildStub({ root });
  if (built === undefined) throw new Error('no C compiler on PATH: scripts/setup.sh installs gcc');
  stub = built;
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('buildStub', () => {
  it('leaves no stub, and says so by returning undefined, where no compiler is found', () => {
    const other = mkdtempSync(path.join(tmpdir(), 'fleet-stub-none-'));
    try {
      expect(buildStub({ root: other, env: { PATH: '' } })).toBeUndefined();
      expect(existsSync(path.join(other, 'dist', 'native', 'kernel-stub'))).toBe(false);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

/** A stand-in for `node entry`: as the router it prints its arguments; as `router-host` it fails, or records the call. */
function routerScript(dir: string): string {
  const script = path.join(dir, 'router.sh');
  writeFileSync(script, `#!/bin/sh\nif [ "$1" = router-host ]; then echo started >> "${dir}/host-starts"; exit 1; fi\necho "standalone $*"\n`);
  chmodSync(script, 0o755);
  return script;
}

describe('kernel-stub', () => {
  let dir: string;
  let server: Server | undefined;
  let child: ChildProcess | undefined;

  const fresh = (): string => {
    dir = mkdtempSync(path.join(tmpdir(), 'fs-'));
    return dir;
  };

  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    }
    child = undefined;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const env = (home: string, extra: Record<string, string> = {}) => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, LLMSPELL_FLEET_HOME: home, ...extra });

  it('prints its usage and exits 2 without a router command line', async () => {
    const home = fresh();
    const run = await runToExit(stub, ['/bin/sh'], { env: env(home) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('usage: kernel-stub NODE ENTRY router');
  });

  it('runs the standalone router at once with LLMSPELL_FLEET_ROUTER=process', async () => {
    const home = fresh();
    const run = await runToExit(stub, ['/bin/sh', routerScript(home), 'router', '--connection-file', 'x.json'], { env: env(home, { LLMSPELL_FLEET_ROUTER: 'process' }) });
    expect(run).toMatchObject({ code: 0, stdout: 'standalone router --connection-file x.json\n' });
    expect(existsSync(path.join(home, 'host-starts'))).toBe(false);
  });

  it.each([
    ['--local', ['--local'], {}],
    ['LLMSPELL_FLEET_MODE=local', [], { LLMSPELL_FLEET_MODE: 'local' }],
  ])('runs a %s router standalone at once: its backend is private to it', async (_name, flags, extra) => {
    const home = fresh();
    const run = await runToExit(stub, ['/bin/sh', routerScript(home), 'router', ...flags], { env: env(home, extra) });
    expect(run).toMatchObject({ code: 0, stdout: `standalone ${['router', ...flags].join(' ')}\n` });
    expect(existsSync(path.join(home, 'host-starts'))).toBe(false);
  });

  it('starts the host when none listens, and falls back to the standalone router when it fails', async () => {
    const home = fresh();
    const run = await runToExit(stub, ['/bin/sh', routerScript(home), 'router', '--connection-file', 'x.json'], { env: env(home) });
    expect(run).toMatchObject({ code: 0, stdout: 'standalone router --connection-file x.json\n' });
    expect(readFileSync(path.join(home, 'host-starts'), 'utf8')).toBe('started\n');
  });

  it('falls back without starting a host when the socket path is too long for a unix socket', async () => {
    const home = path.join(fresh(), 'x'.repeat(120));
    mkdirSync(home);
    const run = await runToExit(stub, ['/bin/sh', routerScript(dir), 'router'], { env: env(home) });
    expect(run).toMatchObject({ code: 0, stdout: 'standalone router\n' });
    expect(existsSync(path.join(dir, 'host-starts'))).toBe(false);
  });

  /** Listens where the stub looks and hands each connection's lines to the test. */
  async function host(home: string): Promise<{ next: () => Promise<{ socket: Socket; lines: AsyncIterator<string> }> }> {
    const queue: Socket[] = [];
    const waiting: ((s: Socket) => void)[] = [];
    server = createServer((socket) => {
      const w = waiting.shift();
      if (w) w(socket);
      else queue.push(socket);
    });
    await new Promise<void>((resolve) => server?.listen(path.join(home, 'router-host.sock'), resolve));
    return {
      next: async () => {
        const socket = queue.shift() ?? (await new Promise<Socket>((resolve) => waiting.push(resolve)));
        return { socket, lines: linesOf(socket) };
      },
    };
  }

  async function* lineGen(socket: Socket): AsyncGenerator<string> {
    let rest = '';
    for await (const chunk of socket) {
      rest += String(chunk);
      let nl: number;
      while ((nl = rest.indexOf('\n')) >= 0) {
        yield rest.slice(0, nl);
        rest = rest.slice(nl + 1);
      }
    }
  }
  const linesOf = (socket: Socket): AsyncIterator<string> => lineGen(socket)[Symbol.asyncIterator]();

  function start(home: string, args: string[], extraEnv: Record<string, string> = {}): { exit: Promise<{ code: number | null; stdout: string; stderr: string }> } {
    const proc = spawn(stub, args, { env: env(home, extraEnv), cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += String(d)));
    proc.stderr.on('data', (d) => (stderr += String(d)));
    return { exit: new Promise((resolve) => proc.on('close', (code) => resolve({ code, stdout, stderr }))) };
  }

  it('hands its session to a listening host: hello with argv, env and cwd; stderr lines; the exit code', async () => {
    const home = fresh();
    const listening = await host(home);
    const run = start(home, ['/bin/sh', routerScript(home), 'router', '--connection-file', 'k "1".json'], { SECRET_OK: 'a\nb' });
    const { socket, lines } = await listening.next();
    const hello = JSON.parse((await lines.next()).value as string) as { v: number; pid: number; ppid: number; cwd: string; argv: string[]; env: Record<string, string> };
    expect(hello).toMatchObject({ v: 1, pid: child?.pid, ppid: process.pid, cwd: home, argv: ['/bin/sh', path.join(home, 'router.sh'), 'router', '--connection-file', 'k "1".json'] });
    expect(hello.env).toMatchObject({ SECRET_OK: 'a\nb', LLMSPELL_FLEET_HOME: home });
    socket.write('{"listening":true}\n{"stderr":"llmspell-fleet: caf\\u00e9 \\ud83d\\ude00 \\"quoted\\"\\n","more":1}\n{"exit":7}\n');
    const result = await run.exit;
    expect(result.code).toBe(7);
    expect(result.stderr).toBe('llmspell-fleet: café 😀 "quoted"\n');
    expect(result.stdout).toBe('');
  });

  it.each(['SIGTERM', 'SIGHUP', 'SIGINT'] as const)('passes %s on to the host and waits for the exit it sends', async (signal) => {
    const home = fresh();
    const listening = await host(home);
    const run = start(home, ['/bin/sh', routerScript(home), 'router']);
    const { socket, lines } = await listening.next();
    await lines.next();
    child?.kill(signal);
    expect(JSON.parse((await lines.next()).value as string)).toEqual({ signal });
    socket.write('{"exit":0}\n');
    expect((await run.exit).code).toBe(0);
  });

  it('runs the standalone router when the host answers fallback', async () => {
    const home = fresh();
    const listening = await host(home);
    const run = start(home, ['/bin/sh', routerScript(home), 'router', '--runtime', 'lua']);
    const { socket, lines } = await listening.next();
    await lines.next();
    socket.end('{"fallback":"another install"}\n');
    expect(await run.exit).toMatchObject({ code: 0, stdout: 'standalone router --runtime lua\n', stderr: '' });
  });

  it('says the host is gone and exits 1 when the host closes without an exit', async () => {
    const home = fresh();
    const listening = await host(home);
    const run = start(home, ['/bin/sh', routerScript(home), 'router']);
    const { socket, lines } = await listening.next();
    await lines.next();
    socket.destroy();
    const result = await run.exit;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the router host exited; restart the kernel');
  });
});
