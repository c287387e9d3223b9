/**
 * When the router cannot give a client its backend, the client hears why, in words that say
 * what to fix, and the session never hangs: kernel_info is answered (its banner says what
 * failed), a cell gets an execute_reply with status error, iopub carries the reason on stderr,
 * and the router stays up until the client shuts it down. Where the backend mode matters (how
 * the backend is started), both are run: through the fleet manager (the default) and started by
 * the router itself (LLMSPELL_FLEET_MODE=local). A backend that dies under a client is in
 * router-backend-death.test.ts.
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, REPO_ROOT, runPython, withJupyterEnv, type CheckResult, type JupyterEnv } from '../helpers/e2e.js';
import { FLOOD_KERNEL, MODES, TEST_TIMEOUT_MS, toml, within, withRouter, type Router } from '../helpers/router-process.js';

const CRASH_ON_START = join(REPO_ROOT, 'test', 'fixtures', 'crash-on-start.mjs');
const GHOST = '/nonexistent/llmspell-fleet-test/ghost-kernel';

interface IopubRecord {
  msg_type: string;
  parent_msg_id: string | null;
  content: { name?: string; text?: string; ename?: string; evalue?: string; traceback?: string[] };
}

type ErrorCheckResult = CheckResult & {
  kernel_info: { implementation?: string; banner?: string; status?: string } | null;
  execute_msg_id: string | null;
  execute_reply: { status: string; ename?: string; evalue?: string; traceback?: string[]; execution_count?: unknown } | null;
  iopub: IopubRecord[];
  kernel_info_after: { status?: string } | null;
  shutdown_reply: { status?: string } | null;
};

/**
 * Runs error_check.py against the router; asserts the session completed (every request answered,
 * shutdown acknowledged, router exited 0 only after it) and returns what the client saw.
 */
async function clientSession(jenv: JupyterEnv, router: Router, readyTimeoutS = 60): Promise<{ result: ErrorCheckResult; why: string }> {
  const run = await runPython<ErrorCheckResult>('error_check.py', [router.connectionFile, '1+1', String(readyTimeoutS)], { env: jenv.env, timeoutMs: 100_000 });
  const why = `${describeRun('error_check', run)}\n${router.log()}`;
  const result = expectChecksPassed(run, { exactly: ['ready', 'kernel_info', 'execute', 'kernel_info_after', 'shutdown'] }, why);
  expect(result.kernel_info?.status, why).toBe('ok');
  expect(result.kernel_info_after?.status, `the router stopped answering after the error\n${why}`).toBe('ok');
  expect(result.shutdown_reply?.status, why).toBe('ok');
  expect(await within(router.exit, 30_000, 'router exit after shutdown_request'), why).toEqual({ code: 0, signal: null });
  return { result, why };
}

/** The failure as a cell error and on stderr; returns the execute_reply's evalue. */
function expectFleetError(result: ErrorCheckResult, why: string): string {
  const reply = result.execute_reply!;
  expect(reply, why).not.toBeNull();
  expect(reply.status, why).toBe('error');
  expect(reply.ename, why).toBe('FleetError');
  const evalue = reply.evalue ?? '';
  expect(evalue.length, why).toBeGreaterThan(0);
  // The same words reach the user on iopub, as stderr.
  const stderr = result.iopub.filter((m) => m.msg_type === 'stream' && m.content.name === 'stderr').map((m) => m.content.text ?? '');
  expect(stderr.some((t) => t.includes(evalue.split('\n')[0]!)), `no stderr stream carries "${evalue.split('\n')[0]}"\n${why}`).toBe(true);
  // Shown in the cell: notebooks render iopub output whose parent is the cell's request, never the
  // reply's traceback (JupyterLab's OutputArea), so the reason must also come with that parent.
  const inCell = result.iopub.filter(
    (m) => m.parent_msg_id === result.execute_msg_id && ((m.msg_type === 'error' && m.content.ename === 'FleetError') || (m.msg_type === 'stream' && m.content.name === 'stderr')),
  );
  expect(inCell.map((m) => m.msg_type), `no error or stderr output with the cell's request as parent: a notebook shows nothing in the cell\n${why}`).not.toEqual([]);
  // jupyter console computes int(content["execution_count"] + 1) for every execute_reply, error or not.
  expect(typeof reply.execution_count, `execute_reply.execution_count is ${JSON.stringify(reply.execution_count)}; the spec says int`).toBe('number');
  return evalue;
}
describe('router errors: clear reasons, and the session never hangs', () => {
  it.each(MODES)('names the runtime and the setting to fix when its executable does not exist (%s)', async (mode) => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, { mode, config: toml('ghost', { ghost: [GHOST, '{connection_file}'] }) }, async (router) => {
        const { result, why } = await clientSession(jenv, router);
        expect(result.kernel_info?.implementation, why).toBe('llmspell-fleet');
        const banner = result.kernel_info?.banner ?? '';
        expect(banner, why).toContain(GHOST);
        expect(banner, why).toContain('runtimes.ghost.argv');
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toContain(GHOST);
        expect(evalue, why).toContain('not found');
        expect(evalue, why).toContain('runtimes.ghost.argv');
      });
    });
  }, TEST_TIMEOUT_MS);

  it('a port of the connection file already taken: exits non-zero, saying which, on stderr and in its log', async () => {
    await withJupyterEnv(async (jenv) => {
      const taken = createServer();
      try {
        await withRouter(jenv, {
          // The manager this router started early has nobody to serve: it leaves by itself.
          config: 'manager_idle_seconds = 1\n' + toml('flood', { flood: [process.execPath, FLOOD_KERNEL, '{connection_file}'] }),
          beforeStart: (info) => new Promise<void>((resolve, reject) => taken.once('error', reject).listen(info.shell_port, '127.0.0.1', resolve)),
        }, async (router) => {
          const exit = await within(router.exit, 60_000, 'router to exit');
          const port = String(router.info.shell_port);
          expect(exit.code, router.log()).not.toBe(0);
          const [stderr, log] = router.log().split('router log (tail):');
          expect(stderr, router.log()).toContain(port);
          // Said once (the human line that names the log), not once more by the CLI's catch-all.
          expect(stderr!.split('Address already in use').length - 1, router.log()).toBe(1);
          expect(log, router.log()).toContain('router could not start');
          expect(log, router.log()).toContain('cannot bind');
          expect(log, router.log()).toContain(port);
        });
      } finally {
        taken.close();
      }
    });
  }, TEST_TIMEOUT_MS);

  it('lists the known runtimes and names the config file for an unknown --runtime', async () => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, {
        args: ['--runtime', 'nosuch'],
        config: toml('flood', { flood: [process.execPath, FLOOD_KERNEL, '{connection_file}'] }),
      }, async (router) => {
        const { result, why } = await clientSession(jenv, router);
        expect(result.kernel_info?.banner ?? '', why).toContain('nosuch');
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toContain('unknown runtime "nosuch"');
        // Every runtime the config knows (its own and the built-in ones), and where to add one.
        for (const known of ['flood', 'javascript', 'lua', 'python']) expect(evalue, why).toContain(known);
        expect(evalue, why).toContain(router.config);
        expect(evalue, why).toContain('[runtimes.nosuch]');
      });
    });
  }, TEST_TIMEOUT_MS);

  it('lists the known providers for an unknown --provider', async () => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, {
        args: ['--provider', 'nosuchai'],
        config: toml('flood', { flood: [process.execPath, FLOOD_KERNEL, '{connection_file}'] }),
      }, async (router) => {
        const { result, why } = await clientSession(jenv, router);
        expect(result.kernel_info?.banner ?? '', why).toContain('nosuchai');
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toContain('unknown provider "nosuchai"');
        for (const known of ['none', 'openai', 'anthropic', 'ollama']) expect(evalue, why).toContain(known);
        expect(evalue, why).toContain('[providers.nosuchai]');
      });
    });
  }, TEST_TIMEOUT_MS);

  it.each(MODES)('says so within startup_timeout when a backend never writes its connection file, and stops it (%s)', async (mode) => {
    await withJupyterEnv(async (jenv) => {
      // llmspell's contract (kernel-writes), broken: the process runs but never writes the file.
      const silent = [process.execPath, '-e', 'setInterval(() => {}, 1000)', '{connection_file}'];
      const config = [
        'default_runtime = "silent"', 'default_provider = "none"', 'linger_seconds = 0', '[providers.none]',
        '[runtimes.silent]', `argv = ${JSON.stringify(silent)}`, 'connection = "kernel-writes"', 'startup_timeout = 3', '',
      ].join('\n');
      await withRouter(jenv, { mode, config }, async (router) => {
        const { result, why } = await clientSession(jenv, router, 30);
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toContain('did not write its connection file');
        expect(evalue, why).toContain('within 3000 ms');
        expect(evalue, why).toContain('runtimes.silent.startup_timeout');
      });
    });
  }, TEST_TIMEOUT_MS);

  it('names the file and line of a fleet.toml that does not parse', async () => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, { config: 'default_runtime = "flood"\ndefault_provider = "none"\nlinger_seconds = = 5\n' }, async (router) => {
        const { result, why } = await clientSession(jenv, router);
        expect(result.kernel_info?.banner ?? '', why).toContain(router.config);
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toContain(`${router.config}:3:`);
        expect(evalue, why).toMatch(/TOML/);
      });
    });
  }, TEST_TIMEOUT_MS);

  it.each(MODES)('names the exit code and the last stderr line of a backend that crashes at start (%s)', async (mode) => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, { mode, config: toml('crash', { crash: [process.execPath, CRASH_ON_START, '{connection_file}'] }) }, async (router) => {
        // 30 s: a crash is known within a second; a client left waiting is the failure.
        const { result, why } = await clientSession(jenv, router, 30);
        const evalue = expectFleetError(result, why);
        expect(evalue, why).toMatch(/code 3\b/);
        expect(evalue, why).toContain('crash-on-start: deliberate failure before binding any socket');
        expect(result.kernel_info?.banner ?? '', why).toMatch(/code 3\b/);
      });
    });
  }, TEST_TIMEOUT_MS);
});
