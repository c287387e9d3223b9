/**
 * BackendProcess with real kernels: the llmspell stand-in (kernel-writes), ipykernel
 * (router-writes) and curve (router-writes with runtimes.X.curve = true).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackendProcess, routerConnectionInfo } from '../../../src/fleet/backend-process.js';
import { createLogger } from '../../../src/shared/log.js';
import { JupyterClient } from '../../../src/wire/client.js';
import { parseConnectionInfo } from '../../../src/wire/connection-file.js';
import { waitForReady } from '../../../src/wire/ready.js';
import { Z85_KEY } from '../../../src/wire/curve.js';
import { PYTHON, dir, plan, standinPlan, launch, launchError, isGone, request, useBackendProcesses } from '../../helpers/backend-process.js';

useBackendProcesses();

describe('BackendProcess with the llmspell stand-in (kernel-writes)', () => {
  it('reads the connection file the kernel wrote, and stop() ends it and removes the file', async () => {
    const p = standinPlan();
    const backend = await launch(p);
    expect(backend.plan).toBe(p);
    expect(backend.alive).toBe(true);
    expect(() => process.kill(backend.pid, 0)).not.toThrow();
    const onDisk = parseConnectionInfo(await readFile(p.connectionFile, 'utf8'));
    expect(backend.connection).toEqual(onDisk);
    expect(backend.connection.kernel_name).toBe('llmspell');
    expect(backend.connection.key).toMatch(/^[0-9a-f]{64}$/);

    await backend.stop();
    expect(backend.alive).toBe(false);
    expect(isGone(backend.pid)).toBe(true);
    expect(existsSync(p.connectionFile)).toBe(false);
    expect(await backend.exited).toMatchObject({ signal: 'SIGTERM', exitCode: null, reason: 'stopped' });
  });

  it('passes argv and env (plan env + JPY_PARENT_PID) to the kernel, which answers kernel_info', async () => {
    const p = standinPlan({ env: { LLMSPELL_PROVIDER: 'anthropic' }, secretEnvKeys: [] });
    const backend = await launch(p);
    const reply = await request(backend.connection, 'kernel_info_request');
    expect(reply.msgType).toBe('kernel_info_reply');
    const content = reply.content<{ standin: { argv: string[]; provider: string; parentPid: string; pid: number } }>();
    expect(content.standin).toMatchObject({ argv: p.argv.slice(2), provider: 'anthropic', parentPid: String(process.pid), pid: backend.pid });
  });

  it('the stand-in echoes execute_request on iopub and replies on shell', async () => {
    const backend = await launch(standinPlan());
    const client = new JupyterClient({ connection: backend.connection });
    try {
      // Slow joiner: ask until our subscription is live, as clients do.
      await waitForReady(client, { timeoutMs: 30_000 });
      const feed = client.iopubMessages();
      const cell = client.start('execute_request', { code: 'print("hi")', silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }, { timeoutMs: 10_000 });
      expect((await cell.reply).content()).toMatchObject({ status: 'ok', execution_count: 1 });
      const seen: string[] = [];
      for await (const m of feed) {
        if (m.parentHeader.msg_id !== cell.msgId) continue;
        seen.push(m.msgType);
        if (m.msgType === 'stream') expect(m.content()).toEqual({ name: 'stdout', text: 'print("hi")' });
        if (m.msgType === 'status' && m.content().execution_state === 'idle') break;
      }
      expect(seen).toEqual(['status', 'execute_input', 'stream', 'execute_result', 'status']);
    } finally {
      client.close();
    }
  });

  it('the stand-in accepts global flags after the subcommand, as llmspell does', async () => {
    const p = standinPlan();
    p.argv.push('--profile', 'development');
    const backend = await launch(p);
    const reply = await request(backend.connection, 'kernel_info_request');
    expect(reply.content<{ standin: { profile: string } }>().standin.profile).toBe('development');
  });

  it.each([['--daemon'], ['--bogus']])('the stand-in refuses %s: BACKEND_EXITED with its message', async (flag) => {
    const p = standinPlan();
    p.argv.push(flag);
    const error = await launchError(p);
    expect(error.code).toBe('BACKEND_EXITED');
    expect(error.context.exitCode).toBe(2);
    expect(error.context.stderrTail).toContain(flag);
  });

  it('deletes a stale connection file before starting, so old ports are never used', async () => {
    const p = standinPlan();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dirname(p.connectionFile), { recursive: true });
    const stale = routerConnectionInfo([11, 12, 13, 14, 15]);
    await writeFile(p.connectionFile, JSON.stringify(stale));
    const backend = await launch(p);
    expect(backend.connection.key).not.toBe(stale.key);
    expect(backend.connection.shell_port).not.toBe(11);
  });

  it('stop() returns the same promise every time', async () => {
    const backend = await launch(standinPlan());
    const first = backend.stop();
    expect(backend.stop()).toBe(first);
    await first;
    expect(backend.stop({ graceMs: 1 })).toBe(first);
    expect(isGone(backend.pid)).toBe(true);
  });
});

describe('BackendProcess with ipykernel (router-writes)', () => {
  it('writes a 0600 connection file with 5 distinct ports that the kernel serves, then stops it', async () => {
    const kernelId = randomUUID();
    const connectionFile = join(dir, 'runtime', `kernel-${kernelId}.json`);
    const p = plan({
      kernelId,
      connectionFile,
      connection: 'router-writes',
      argv: [PYTHON, '-m', 'ipykernel_launcher', '-f', connectionFile],
      requirement: { runtime: 'python', provider: 'none' },
    });
    const backend = await launch(p);
    expect(backend.alive).toBe(true);
    expect(() => process.kill(backend.pid, 0)).not.toThrow();

    expect((await stat(connectionFile)).mode & 0o777).toBe(0o600);
    expect((await stat(dirname(connectionFile))).mode & 0o777).toBe(0o700);
    const onDisk = parseConnectionInfo(await readFile(connectionFile, 'utf8'));
    expect(onDisk).toEqual(backend.connection);
    const ports = [onDisk.shell_port, onDisk.iopub_port, onDisk.stdin_port, onDisk.control_port, onDisk.hb_port];
    expect(new Set(ports).size).toBe(5);
    expect(onDisk).toMatchObject({ transport: 'tcp', ip: '127.0.0.1', signature_scheme: 'hmac-sha256' });
    expect(onDisk.key).toMatch(/^[0-9a-f]{64}$/);

    const reply = await request(backend.connection, 'kernel_info_request');
    expect(reply.content()).toMatchObject({ status: 'ok', implementation: 'ipython' });

    await backend.stop();
    expect(isGone(backend.pid)).toBe(true);
    expect(existsSync(connectionFile)).toBe(false);
    expect((await backend.exited).reason).toBe('stopped');
  });
});

describe('BackendProcess with curve (router-writes, runtimes.X.curve = true)', () => {
  it('writes a fresh CurveZMQ pair the kernel serves with, answers a curve client, and never logs the secret', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
    const launchCurve = async () => {
      const kernelId = randomUUID();
      const connectionFile = join(dir, 'runtime', `kernel-${kernelId}.json`);
      const p = plan({ kernelId, connectionFile, connection: 'router-writes', curve: true, argv: [PYTHON, '-m', 'ipykernel_launcher', '-f', connectionFile], requirement: { runtime: 'python', provider: 'none' } });
      return launch(p, { logger });
    };
    const backend = await launchCurve();
    const onDisk = parseConnectionInfo(await readFile(backend.plan.connectionFile, 'utf8'));
    expect(onDisk).toEqual(backend.connection);
    expect(onDisk.curve_publickey).toMatch(Z85_KEY);
    expect(onDisk.curve_secretkey).toMatch(Z85_KEY);

    expect((await request(backend.connection, 'kernel_info_request')).content()).toMatchObject({ status: 'ok' });
    // Each backend gets its own pair.
    const other = await launchCurve();
    expect(other.connection.curve_publickey).not.toBe(backend.connection.curve_publickey);
    await Promise.all([backend.stop(), other.stop()]);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain(onDisk.curve_secretkey as string);
  });
});
