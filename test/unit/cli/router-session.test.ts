/**
 * startRouterSession in this process, as the router host runs it: everything about the kernel
 * process comes from the options. The requirement cannot be planned here (an unknown runtime),
 * so the session binds and answers without a manager or a backend: loopback only.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startRouterSession, type RouterSession, type RouterSessionOptions } from '../../../src/cli/router-session.js';
import { routerConnectionInfo } from '../../../src/fleet/backend-process.js';
import { allocatePorts } from '../../../src/fleet/ports.js';
import { writeConnectionFile } from '../../../src/wire/connection-file.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'router-session-'));
  mkdirSync(join(dir, 'kernel'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Starts a session and records what it says and how it ends. */
function run(options: Partial<RouterSessionOptions> & { connectionFile: string }) {
  const stderr: string[] = [];
  let listening = false;
  let exit: (code: number) => void = () => undefined;
  const exited = new Promise<number>((resolve) => (exit = resolve));
  const session = startRouterSession({
    flags: { connectionFile: options.connectionFile, runtime: 'nosuch', logLevel: 'info' },
    env: { HOME: dir, LLMSPELL_FLEET_HOME: 'fleet' },
    cwd: join(dir, 'kernel'),
    pid: 424242,
    stderr: (text) => stderr.push(text),
    onListening: () => (listening = true),
    onExit: exit,
    ...options,
  });
  return { session, stderr, exited, listening: () => listening };
}

describe('startRouterSession', () => {
  it("runs with the kernel's env, cwd and pid: a relative home and connection file from its cwd, its log named by its pid, its stderr lines to the sink", async () => {
    await writeConnectionFile(join(dir, 'kernel', 'k.json'), routerConnectionInfo(await allocatePorts('127.0.0.1', 5)));
    const s = run({ connectionFile: 'k.json' });
    const log = join(dir, 'kernel', 'fleet', 'logs', 'router-424242.log');
    await expect.poll(() => s.listening(), { timeout: 10_000 }).toBe(true);
    expect(s.stderr.join('')).toMatch(/^llmspell-fleet: cannot plan a backend: unknown runtime "nosuch"/);
    expect(s.stderr.join('')).toContain(`(details: ${log})`);
    s.session.stop(0, 'SIGTERM');
    expect(await s.exited).toBe(0);
    const text = readFileSync(log, 'utf8');
    expect(text).toContain('"pid":424242');
    expect(text).toMatch(/"reason":"SIGTERM"/);
  });

  it('says what the CLI would say and exits 1 when the connection file is missing', async () => {
    const s = run({ connectionFile: join(dir, 'missing.json') });
    expect(await s.exited).toBe(1);
    expect(s.stderr.join('')).toMatch(/^llmspell-fleet: .*missing\.json/);
    expect(s.listening()).toBe(false);
  });

  it.each([
    ['a stop', (session: RouterSession) => session.stop(0, 'SIGHUP'), 'SIGHUP'],
    ["the kernel's end", (session: RouterSession) => session.kernelGone('the kernel process is gone'), 'the kernel process is gone'],
  ])('%s asked for before the router runs ends it with that code, and it never binds the ports', async (_name, end, reason) => {
    await writeConnectionFile(join(dir, 'kernel', 'k.json'), routerConnectionInfo(await allocatePorts('127.0.0.1', 5)));
    const s = run({ connectionFile: join(dir, 'kernel', 'k.json') });
    end(s.session);
    expect(await s.exited).toBe(0);
    expect(s.listening()).toBe(false);
    const log = readFileSync(join(dir, 'kernel', 'fleet', 'logs', 'router-424242.log'), 'utf8');
    expect(log).toContain('router stopped before it started');
    expect(log).toContain(reason);
  });
});
