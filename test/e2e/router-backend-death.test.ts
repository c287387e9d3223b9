/**
 * A backend that dies under a client is announced on stderr, the request it was running fails
 * instead of hanging, and the router (still the client's kernel) serves the next request from a
 * new backend; with restarts off it says so. Run in both backend modes where the mode matters:
 * through the fleet manager (the default) and started by the router itself
 * (LLMSPELL_FLEET_MODE=local). Errors before a backend is ready are in router-start-errors.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { JupyterClient } from '../../src/wire/client.js';
import type { WireMessage } from '../../src/wire/codec.js';
import type { ConnectionInfo } from '../../src/wire/connection-file.js';
import { executeCell } from '../../src/wire/execute.js';
import { waitForReady } from '../../src/wire/ready.js';
import { withJupyterEnv } from '../helpers/e2e.js';
import { FLOOD_KERNEL, MODES, TEST_TIMEOUT_MS, toml, within, withRouter } from '../helpers/router-process.js';

/** The flood kernel's pid, from its kernel_info_reply (which the flood kernel adds it to). */
async function floodKernelPid(client: JupyterClient, log: () => string): Promise<number | undefined> {
  const r = await within(client.request('kernel_info_request', {}), 30_000, `kernel_info_reply\n${log()}`);
  return r.content<{ flood_kernel?: { pid: number } }>().flood_kernel?.pid;
}

describe('router errors: a backend that dies under a client', () => {
  it.each(MODES)('tells clients on stderr when the backend is killed while running a cell, fails that cell, and serves the next request from a new backend (%s)', async (mode) => {
    await withJupyterEnv(async (jenv) => {
      await withRouter(jenv, { mode, config: toml('flood', { flood: [process.execPath, FLOOD_KERNEL, '{connection_file}'] }) }, async (router) => {
        const client = new JupyterClient({ connection: router.info });
        try {
          await waitForReady(client, { timeoutMs: 30_000 });
          const backendPid = () => floodKernelPid(client, () => router.log());
          const pid = await backendPid();
          expect(pid, router.log()).toBeGreaterThan(1);
          const stderr = new Promise<WireMessage>((resolve) => {
            client.onIopub((m) => {
              if (m.msgType === 'stream' && m.content<{ name: string }>().name === 'stderr') resolve(m);
            });
          });
          // A cell is running when the backend dies.
          let cellId = '';
          const cellOutput: WireMessage[] = [];
          const busy = new Promise<void>((resolve) => {
            client.onIopub((m) => {
              if (m.parentHeader.msg_id !== cellId) return;
              cellOutput.push(m);
              if (m.msgType === 'status' && m.content<{ execution_state: string }>().execution_state === 'busy') resolve();
            });
          });
          const cell = client.start('execute_request', { code: 'block 60000', silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
          cellId = cell.msgId;
          await within(busy, 30_000, 'the cell to start');
          const cellIdle = new Promise<void>((resolve) => {
            client.onIopub((m) => {
              if (m.parentHeader.msg_id === cellId && m.msgType === 'status' && m.content<{ execution_state: string }>().execution_state === 'idle') resolve();
            });
          });

          process.kill(pid!, 'SIGKILL');
          const notice = await within(stderr, 30_000, `a stderr stream about the backend (pid ${pid}) exiting\n${router.log()}`);
          const text = notice.content<{ text: string }>().text;
          log(`${mode}: after SIGKILL of the backend: ${text.trim()}`);
          expect(text).toContain(`pid ${pid}`);
          expect(text).toMatch(/was killed by SIGKILL|exited/);

          // The running cell is finished, with an error, instead of hanging its client.
          const [reply] = await within(Promise.all([cell.reply, cellIdle]), 30_000, `execute_reply and idle for the cell the backend was running\n${router.log()}`);
          const content = reply.content<{ status: string; ename?: string; evalue?: string; execution_count?: unknown }>();
          expect(content.status, JSON.stringify(content)).toBe('error');
          expect(content.evalue ?? '', JSON.stringify(content)).toContain(`pid ${pid}`);
          expect(cellOutput.map((m) => m.msgType), 'no error or stderr output with the cell as parent: a notebook shows nothing in the cell').toContain('error');

          // The router stays up and the next request is served by a new backend.
          const deadline = Date.now() + 60_000;
          let next: number | undefined;
          while (Date.now() < deadline && (next === undefined || next === pid)) next = await backendPid().catch(() => undefined);
          expect(next, `no new backend answered kernel_info within 60 s\n${router.log()}`).toBeGreaterThan(1);
          expect(next).not.toBe(pid);
          let echoed = '';
          const again = await within(executeCell(client, 'after the crash', { onOutput: (m) => { if (m.msgType === 'stream') echoed += m.content<{ text: string }>().text; } }), 30_000, 'a cell on the new backend');
          expect(again.content<{ status: string }>().status).toBe('ok');
          expect(echoed).toBe('after the crash');
          expect(router.child.exitCode, 'the router exited').toBeNull();
          log(`${mode}: backend ${pid} killed; cell failed with "${content.evalue}"; new backend ${next} serves`);
        } finally {
          client.close();
        }
        // Still the client's kernel: it stops when asked, and only then.
        const shutdownReply = await within(controlRequest(router.info, 'shutdown_request', { restart: false }), 30_000, 'shutdown_reply');
        expect(shutdownReply.content<{ status: string }>().status).toBe('ok');
        expect(await within(router.exit, 30_000, 'router exit after shutdown_request')).toEqual({ code: 0, signal: null });
      });
    });
  }, TEST_TIMEOUT_MS);

  it('with router.restart_limit = 0 says restarts are off when the backend dies, and the next request starts a new one', async () => {
    await withJupyterEnv(async (jenv) => {
      const config = toml('flood', { flood: [process.execPath, FLOOD_KERNEL, '{connection_file}'] }).replace('[providers.none]', '[router]\nrestart_limit = 0\n[providers.none]');
      await withRouter(jenv, { mode: 'local', config }, async (router) => {
        const client = new JupyterClient({ connection: router.info });
        try {
          await waitForReady(client, { timeoutMs: 30_000 });
          const backendPid = () => floodKernelPid(client, () => router.log());
          const pid = await backendPid();
          const stderr = new Promise<string>((resolve) => {
            client.onIopub((m) => {
              if (m.msgType === 'stream' && m.content<{ name: string }>().name === 'stderr') resolve(m.content<{ text: string }>().text);
            });
          });
          process.kill(pid!, 'SIGKILL');
          const text = await within(stderr, 30_000, `a stderr stream about the backend exiting\n${router.log()}`);
          expect(text).toContain(`pid ${pid}`);
          expect(text).toContain('automatic restarts are off (router.restart_limit = 0)');
          const next = await backendPid();
          expect(next, router.log()).toBeGreaterThan(1);
          expect(next).not.toBe(pid);
        } finally {
          client.close();
        }
        const shutdownReply = await within(controlRequest(router.info, 'shutdown_request', { restart: false }), 30_000, 'shutdown_reply');
        expect(shutdownReply.content<{ status: string }>().status).toBe('ok');
      });
    });
  }, TEST_TIMEOUT_MS);
});

/** One request on control from a client of its own; resolves with its reply. */
async function controlRequest(info: ConnectionInfo, msgType: 'shutdown_request', content: { restart: boolean }): Promise<WireMessage<'shutdown_reply'>> {
  const client = new JupyterClient({ connection: info, channels: ['control'] });
  try {
    return await client.request(msgType, content, { channel: 'control' });
  } finally {
    client.close();
  }
}

function log(message: string): void {
  console.log(`[router-errors] ${message}`);
}
