/**
 * `llmspell-fleet top` against a real manager with a stand-in backend: on a real pseudo-terminal
 * (pexpect, test/e2e/py/top_pty_check.py) it shows the backend's row and refreshes, q quits with
 * status 0 and the terminal is put back, a lost manager is reported while top keeps running; with
 * stdout a pipe it prints one plain frame and exits.
 * The raw terminal streams go to test-artifacts/top/terminal-KEY.txt.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagerClient } from '../../src/fleet/manager/client.js';
import type { ManagerInfo } from '../../src/fleet/manager/protocol.js';
import { freshArtifactsDir } from '../helpers/artifacts.js';
import { expectChecksPassed } from '../helpers/checks.js';
import { describeRun, makeJupyterEnv, runPython, type CheckResult, type JupyterEnv } from '../helpers/e2e.js';
import { CLI, standinFleet, stopFleetManager } from '../helpers/fleet-env.js';
import { isRunning, waitForNoProcesses } from '../helpers/processes.js';

const run = promisify(execFile);

let jenv: JupyterEnv;
let env: NodeJS.ProcessEnv;
let home: string;
let managerPid: number;
let kernelId: string;
let artifacts: string;

describe('llmspell-fleet top', () => {
  beforeAll(async () => {
    artifacts = await freshArtifactsDir('top');
    jenv = await makeJupyterEnv();
    ({ home, env } = await standinFleet(jenv, { top: ['linger_seconds = 600'] }));
    const client = await ManagerClient.connect({ home, env, autostart: true });
    try {
      managerPid = (await client.request<ManagerInfo>({ op: 'ping' })).pid;
      const spawned = await client.request<{ record: { kernelId: string } }>({ op: 'spawn', requirement: { runtime: 'standin', provider: 'openai' } });
      kernelId = spawned.record.kernelId;
    } finally {
      client.close();
    }
  }, 60_000);

  afterAll(async () => {
    await stopFleetManager(home);
    await waitForNoProcesses(home);
    expect(await isRunning(managerPid)).toBe(false);
    await jenv.cleanup();
  });

  it.each(['q', 'ctrl-c'])('on a terminal: shows the backend, refreshes, quits on %s with status 0 and restores the terminal', async (key) => {
    const transcript = join(artifacts, `terminal-${key}.txt`);
    const result = await runPython<CheckResult>('top_pty_check.py', [kernelId, '--transcript', transcript, '--key', key, '--', process.execPath, CLI, 'top', '--delay', '0.5'], {
      env: { ...env, TERM: 'xterm-256color' },
      timeoutMs: 90_000,
    });
    console.log(`[top] terminal transcript: ${transcript}`);
    expectChecksPassed(result, { exactly: ['enters_screen', 'shows_backend', 'refreshes', 'quits', 'restores_terminal'] }, describeRun('top_pty_check', result));
  }, 120_000);

  it('with stdout a pipe: prints one plain frame with the backend and exits', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'top'], { env, timeout: 30_000 });
    expect(stdout).not.toContain('\x1b');
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^llmspell-fleet top - \d\d:\d\d:\d\d - 1 backend: 1 ready - cpu \d+(\.\d)?% - memory \d/);
    expect(lines[3]).toMatch(/^ID\s+CPU\s+MEMORY\s+STATE/);
    expect(lines[4]).toMatch(new RegExp(`^${kernelId}\\s+\\d+(\\.\\d)?%\\s+\\d+(\\.\\d)? [KMG]iB\\s+ready\\s`));
    expect(lines).toHaveLength(5);
  }, 60_000);

  // Last: it shuts the manager down (and with it the backend).
  it('on a terminal: says so when the manager goes away, keeps running, and still quits cleanly', async () => {
    const transcript = join(artifacts, 'terminal-manager-lost.txt');
    const socket = join(home, 'manager.sock');
    const result = await runPython<CheckResult>('top_pty_check.py', [kernelId, '--transcript', transcript, '--shut-down', socket, '--', process.execPath, CLI, 'top', '--delay', '0.5'], {
      env: { ...env, TERM: 'xterm-256color' },
      timeoutMs: 90_000,
    });
    expectChecksPassed(result, { exactly: ['enters_screen', 'shows_backend', 'refreshes', 'reports_lost_manager', 'quits', 'restores_terminal'] }, describeRun('top_pty_check', result));
    expect(await isRunning(managerPid)).toBe(false);
  }, 120_000);
});
