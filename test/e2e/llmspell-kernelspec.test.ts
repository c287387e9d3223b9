/**
 * The plain "LLMSpell (Lua)" kernelspec (`install --llmspell`) and the adapter on its own, driven
 * by real Jupyter clients: `jupyter kernelspec list`, the official jupyter_kernel_test suite and
 * `jupyter console --existing`. `llmspell` on PATH is the test double
 * (test/fixtures/llmspell-double.mjs), through a shell script first on the PATH of everything the
 * test starts. Every test ends with no process of its env left: adapter, double and clients.
 */
import { runToExit } from '../helpers/run.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitForConnectionFile } from '../../src/fleet/wait-connection-file.js';
import { expectChecksPassed } from '../helpers/checks.js';
import { type CheckResult, type JupyterEnv, type UnittestResult, describeRun, REPO_ROOT, runPython, withJupyterEnv } from '../helpers/e2e.js';
import { DOUBLE, Events, llmspellDoubleBin } from '../helpers/llmspell-double.js';
import { processesReferencing, waitForNoProcesses } from '../helpers/processes.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');
const JUPYTER = join(REPO_ROOT, '.venv', 'bin', 'jupyter');
const TEST_TIMEOUT_MS = 120_000;
const SCRIPT_TIMEOUT_MS = 100_000;

/** Everything jupyter_kernel_test can check in Lua (see the samples in kernel_test_llmspell.py). */
const EXPECTED_PASSED = [
  'test_completion',
  'test_error',
  'test_execute_result',
  'test_execute_stdout',
  'test_history',
  'test_inspect',
  'test_is_complete',
  'test_kernel_info',
];
/** What Lua in llmspell cannot do: no stderr stream from a cell, no own display_data, no pager, no clear_output. */
const EXPECTED_SKIPPED = ['test_clear_output', 'test_display_data', 'test_execute_stderr', 'test_pager'];

/**
 * The env of `jenv` with the double first on PATH as `llmspell`, and TMPDIR inside the env dir:
 * jupyter_client puts the connection files of kernels it starts there, and the adapter writes
 * llmspell's log beside them.
 */
async function withDoubleAsLlmspell(jenv: JupyterEnv): Promise<NodeJS.ProcessEnv> {
  const tmp = join(jenv.dir, 'tmp');
  await mkdir(tmp);
  return { ...jenv.env, PATH: `${await llmspellDoubleBin(jenv.dir)}:${jenv.env.PATH ?? ''}`, TMPDIR: tmp };
}

async function installLlmspellSpec(jenv: JupyterEnv, env: NodeJS.ProcessEnv): Promise<void> {
  const result = await runToExit(process.execPath, [CLI, 'install', '--llmspell', '--prefix', jenv.dir], { env });
  expect(result.stderr).toBe('');
  expect(result.stdout).toBe(`Installed kernelspec llmspell in ${join(jenv.kernelsDir, 'llmspell')}\n`);
  expect(result.code).toBe(0);
}

interface ListedSpec {
  resource_dir: string;
  spec: { argv: string[]; display_name: string; language: string; interrupt_mode: string; metadata: Record<string, unknown> };
}

async function listKernels(env: NodeJS.ProcessEnv): Promise<Record<string, ListedSpec>> {
  const result = await runToExit(JUPYTER, ['kernelspec', 'list', '--json'], { env });
  expect(result.code).toBe(0);
  return (JSON.parse(result.stdout) as { kernelspecs: Record<string, ListedSpec> }).kernelspecs;
}

interface Adapter {
  child: ChildProcess;
  connectionFile: string;
  stderr: () => string;
  closed: Promise<[number | null, NodeJS.Signals | null]>;
  /** Resolves with llmspell's pid once the adapter logs that llmspell answers. */
  llmspellReady: Promise<number>;
}

/** Starts the adapter as a user would, llmspell argv after `--`, and waits for the connection file it writes. */
async function startAdapter(jenv: JupyterEnv, env: NodeJS.ProcessEnv): Promise<Adapter> {
  const connectionFile = join(jenv.runtimeDir, 'kernel-adapter.json');
  // info, so that "llmspell ready" (with llmspell's pid) is logged; the default is warn.
  const argv = [CLI, 'llmspell-adapter', '--connection-file', connectionFile, '--log-level', 'info', '--'];
  argv.push('llmspell', 'kernel', 'start', '--port', '0', '--connection-file', '{llmspell_connection_file}');
  const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const events = new Events();
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    events.notify();
  });
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  // The adapter logs JSON lines; "llmspell ready" carries llmspell's pid after pino's own pid
  // field, and JSON.parse keeps the last of two equal keys.
  const llmspellReady = events.until('"llmspell ready" in the adapter log', () => {
    for (const line of stderr.split('\n').slice(0, -1)) {
      if (!line.includes('"llmspell ready"')) continue;
      return (JSON.parse(line) as { pid: number }).pid;
    }
    return undefined;
  }, 30_000);
  llmspellReady.catch(() => undefined); // awaited by the test; a failed start shows there
  const gone = new AbortController();
  void closed.then(([code, signal]) => gone.abort(new Error(`the adapter exited (${code ?? signal}) before writing ${connectionFile}:\n${stderr}`)));
  try {
    await waitForConnectionFile(connectionFile, { signal: AbortSignal.any([gone.signal, AbortSignal.timeout(30_000)]) });
  } catch (error) {
    child.kill('SIGKILL');
    await closed;
    throw error;
  }
  return { child, connectionFile, stderr: () => stderr, closed, llmspellReady };
}

type ConsoleResult = CheckResult & { stdout: string; stderr: string; shutdown_reply: { status: string } | null };

describe('the "LLMSpell (Lua)" kernelspec with real Jupyter clients', () => {
  it('installs where jupyter kernelspec list finds it, with the adapter argv, and uninstalls', async () => {
    await withJupyterEnv(async (jenv) => {
      const env = await withDoubleAsLlmspell(jenv);
      await installLlmspellSpec(jenv, env);
      const listed = (await listKernels(env)).llmspell;
      expect(listed?.resource_dir).toBe(join(jenv.kernelsDir, 'llmspell'));
      expect(listed?.spec).toMatchObject({
        argv: [
          process.execPath, CLI, 'llmspell-adapter', '--connection-file', '{connection_file}', '--',
          'llmspell', 'kernel', 'start', '--port', '0', '--connection-file', '{llmspell_connection_file}',
        ],
        display_name: 'LLMSpell (Lua)',
        language: 'lua',
        interrupt_mode: 'message',
        metadata: { llmspell: { adapter: 'llmspell' }, debugger: false },
      });
      const removed = await runToExit(process.execPath, [CLI, 'uninstall', '--llmspell', '--prefix', jenv.dir], { env });
      expect(removed.code).toBe(0);
      expect((await listKernels(env)).llmspell).toBeUndefined();
    });
  }, TEST_TIMEOUT_MS);

  it('passes jupyter_kernel_test for everything Lua can do', async () => {
    await withJupyterEnv(async (jenv) => {
      const env = await withDoubleAsLlmspell(jenv);
      await installLlmspellSpec(jenv, env);
      const run = await runPython<UnittestResult & { passed: string[] }>('kernel_test_llmspell.py', [], {
        env: { ...env, KERNEL_NAME: 'llmspell' },
        timeoutMs: SCRIPT_TIMEOUT_MS,
      });
      const why = describeRun('kernel_test_llmspell', run);
      expect(run.timedOut, why).toBe(false);
      const result = run.result;
      expect(result, why).toBeDefined();
      expect(result?.problems.map((p) => `${p.kind}: ${p.test}`), why).toEqual([]);
      // A test that passes only because its sample is missing would be a skip: both lists are exact.
      expect([...(result?.passed ?? [])].sort(), why).toEqual(EXPECTED_PASSED);
      expect(result?.skips.map((s) => s.test.replace(/ \(.*\)$/, '')).sort(), why).toEqual(EXPECTED_SKIPPED);
      expect(result?.ok, why).toBe(true);
      expect(run.code, why).toBe(0);
      await waitForNoProcesses(jenv.dir, 60_000);
    });
  }, TEST_TIMEOUT_MS);

  it('serves jupyter console --existing when started on its own, and leaves nothing after shutdown', async () => {
    await withJupyterEnv(async (jenv) => {
      const env = await withDoubleAsLlmspell(jenv);
      const adapter = await startAdapter(jenv, env);
      try {
        // Both halves run until the shutdown below: the adapter and, as its child, the double.
        const llmspellPid = await adapter.llmspellReady;
        const running = await processesReferencing(jenv.dir);
        const listing = running.map((p) => `${p.pid}: ${p.cmdline}`).join('\n');
        expect(running.find((p) => p.pid === adapter.child.pid)?.cmdline, listing).toContain('llmspell-adapter');
        expect(running.find((p) => p.pid === llmspellPid)?.cmdline, listing).toContain(DOUBLE);

        const run = await runPython<ConsoleResult>('console_existing_check.py', [adapter.connectionFile], {
          env,
          input: 'print("hi")\nreturn 2+3\nerror("boom")\n',
          timeoutMs: SCRIPT_TIMEOUT_MS,
        });
        const why = `${describeRun('console_existing_check', run)}\nadapter stderr:\n${adapter.stderr()}`;
        const result = expectChecksPassed(run, { exactly: ['exited_in_time', 'exit_status_0', 'kept_kernel', 'shutdown_reply_ok'] }, why);
        expect(result?.stdout, why).toMatch(/In \[1\]: hi\n/);
        expect(result?.stdout, why).toContain('Out[2]: 5');
        // jupyter console prints an error's traceback lines on stderr.
        expect(result?.stderr, why).toContain('LuaRuntimeError: line 1: boom\nstack traceback:');
        expect(result?.stderr, why).toContain("in function 'error'");
        expect(result?.stderr, why).not.toContain('engine.rs');
        expect(result?.shutdown_reply, why).toEqual({ status: 'ok', restart: false });
        expect(run.code, why).toBe(0);
        const [code, signal] = await adapter.closed;
        expect({ code, signal }, why).toEqual({ code: 0, signal: null });
        // What the adapter wrote itself goes with it: its connection file, llmspell's, the default llmspell log.
        const left = (await readdir(jenv.runtimeDir)).filter((f) => f.startsWith('kernel-adapter'));
        expect(left, why).toEqual([]);
      } finally {
        if (adapter.child.exitCode === null && adapter.child.signalCode === null) adapter.child.kill('SIGKILL');
      }
      await waitForNoProcesses(jenv.dir, 60_000);
    });
  }, TEST_TIMEOUT_MS);
  it('gives every cell its own print even when llmspell publishes it after the cell\'s idle', async () => {
    await withJupyterEnv(async (jenv) => {
      const env = { ...(await withDoubleAsLlmspell(jenv)), LLMSPELL_DOUBLE_LATE_STREAM: '1' };
      const adapter = await startAdapter(jenv, env);
      try {
        await adapter.llmspellReady;
        const run = await runPython<CheckResult>('late_output_check.py', [adapter.connectionFile, '40'], { env, timeoutMs: SCRIPT_TIMEOUT_MS });
        const why = `${describeRun('late_output_check', run)}\nadapter stderr:\n${adapter.stderr()}`;
        expectChecksPassed(run, { exactly: ["every cell's print arrives before its idle, under that cell", 'no fence marker reaches a client'] }, why);
      } finally {
        adapter.child.kill('SIGTERM');
        await adapter.closed;
      }
      await waitForNoProcesses(jenv.dir, 15_000);
    });
  }, TEST_TIMEOUT_MS);
});
