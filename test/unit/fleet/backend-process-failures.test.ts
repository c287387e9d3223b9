/**
 * BackendProcess when a start fails (what the error says, what is left behind), and how it
 * signals a backend and its process group.
 */
import { existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pollUntil } from '../../../src/shared/process.js';
import { CRASH, NODE, WRITE_CONN, dir, pids, plan, standinPlan, scriptPlan, launch, launchError, isGone, useBackendProcesses } from '../../helpers/backend-process.js';

useBackendProcesses();

describe('startup failures', () => {
  it('a kernel that exits during startup gives BACKEND_EXITED with the log tail', async () => {
    const p = scriptPlan('', { argv: [NODE, CRASH], requirement: { runtime: 'llmspell', provider: 'broken' } });
    const error = await launchError(p);
    expect(error.code).toBe('BACKEND_EXITED');
    expect(error.context).toMatchObject({ exitCode: 3, signal: null, runtime: 'llmspell', provider: 'broken', logFile: p.logFile });
    expect(error.context.stderrTail).toContain('deliberate failure');
    expect(error.message).toContain('deliberate failure');
    expect(error.message).toContain(p.logFile);
    expect(isGone(error.context.pid as number)).toBe(true);
    expect(existsSync(p.connectionFile)).toBe(false);
  });

  it('router-writes: launch returns at once; exited reports the crash with the log tail', async () => {
    const p = plan({ connection: 'router-writes', argv: [NODE, CRASH] });
    const backend = await launch(p);
    const exit = await backend.exited;
    expect(exit).toMatchObject({ exitCode: 3, signal: null, reason: 'exited' });
    expect(exit.stderrTail).toContain('deliberate failure');
    expect(backend.alive).toBe(false);
    expect(existsSync(p.connectionFile)).toBe(true);
    await backend.stop();
    expect(existsSync(p.connectionFile)).toBe(false);
  });

  it('a missing executable gives SPAWN_FAILED naming the config key, and leaves no connection file', async () => {
    const p = plan({ connection: 'router-writes', argv: ['llmspell-definitely-not-installed', 'kernel', 'start'] });
    const error = await launchError(p);
    expect(error.code).toBe('SPAWN_FAILED');
    expect(error.context).toMatchObject({ errno: 'ENOENT', file: 'llmspell-definitely-not-installed' });
    expect(error.message).toContain('not found on PATH');
    expect(error.message).toContain('runtimes.llmspell.argv');
    expect(existsSync(p.connectionFile)).toBe(false);
  });

  it('a missing working directory gives SPAWN_FAILED about the cwd, not the executable', async () => {
    const error = await launchError(standinPlan({ cwd: join(dir, 'nope') }));
    expect(error.code).toBe('SPAWN_FAILED');
    expect(error.context.cwd).toBe(join(dir, 'nope'));
  });

  // These two wait out a real timeout, which must outlast node's start on a busy machine (a
  // 400 ms one lost that race in a unit run beside other work): the kernel's first line has to
  // be written before the timer fires for the assertions to mean anything.
  const SLOW_START_MS = 4000;

  it('a kernel that never writes its file gives READY_TIMEOUT and is killed', async () => {
    const p = scriptPlan(`process.stderr.write('loading models\\n'); setInterval(() => {}, 1000)`, { startupTimeoutMs: SLOW_START_MS });
    const error = await launchError(p);
    expect(error.code).toBe('READY_TIMEOUT');
    expect(error.context).toMatchObject({ waitedFor: 'connection file', connectionFile: p.connectionFile, timeoutMs: SLOW_START_MS });
    expect(error.context.stderrTail).toBe('loading models');
    expect(error.message).toContain('runtimes.llmspell.startup_timeout');
    expect(error.message).toContain(p.logFile);
    expect(isGone(error.context.pid as number)).toBe(true);
  });

  it('a half-written file at timeout is reported as such', async () => {
    const p = scriptPlan(`require('fs').writeFileSync(process.argv[1], '{"shell_port": 1'); setInterval(() => {}, 1000)`, { startupTimeoutMs: SLOW_START_MS });
    const error = await launchError(p);
    expect(error.code).toBe('READY_TIMEOUT');
    expect(error.message).toContain('not valid JSON');
    expect(existsSync(p.connectionFile)).toBe(false);
  });
});

describe('signals and the process group', () => {
  it('interrupt() delivers SIGINT to the kernel', async () => {
    const script = `process.on('SIGINT', () => { process.stderr.write('got SIGINT\\n'); process.exit(42); }); ${WRITE_CONN()} setInterval(() => {}, 1000);`;
    const backend = await launch(scriptPlan(script));
    backend.interrupt();
    const exit = await backend.exited;
    expect(exit).toMatchObject({ exitCode: 42, reason: 'exited' });
    expect(exit.stderrTail).toContain('got SIGINT');
    // Once reaped, interrupt must not signal anything (the pid may belong to someone else).
    expect(() => backend.interrupt()).not.toThrow();
  });

  it('stop() ends the whole process group, grandchildren included', async () => {
    const script =
      `const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });` +
      `${WRITE_CONN('{grandchild_pid: c.pid}')} setInterval(() => {}, 1000);`;
    const backend = await launch(scriptPlan(script));
    const grandchild = backend.connection.grandchild_pid as number;
    pids.push(grandchild);
    expect(isGone(grandchild)).toBe(false);
    await backend.stop();
    // The group got SIGTERM together; the grandchild dies when the kernel next schedules it, which
    // on a busy machine can be after the leader's exit was seen. No event exists for a stranger's pid.
    expect(await pollUntil(() => isGone(grandchild), 10_000)).toBe(true);
  });

  it('a kernel that ignores SIGTERM is killed after graceMs', async () => {
    const script = `process.on('SIGTERM', () => {}); ${WRITE_CONN()} setInterval(() => {}, 1000);`;
    const backend = await launch(scriptPlan(script));
    await backend.stop({ graceMs: 200, killMs: 3000 });
    expect(await backend.exited).toMatchObject({ signal: 'SIGKILL', reason: 'stopped' });
  });

  it('the backend is in its own process group, apart from ours', async () => {
    const backend = await launch(standinPlan());
    const fields = readFileSync(`/proc/${backend.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    const pgid = Number(fields[2]);
    expect(pgid).toBe(backend.pid);
    const ours = Number(readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ')[2]);
    expect(pgid).not.toBe(ours);
  });
});
