/**
 * Backends launched for the BackendProcess unit tests (test/unit/fleet/backend-process-*.test.ts):
 * launch plans for the llmspell stand-in and for node -e scripts, in a fresh directory per test,
 * with a check after each test that nothing it launched still runs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, expect } from 'vitest';
import { BackendProcess } from '../../src/fleet/backend-process.js';
import type { LaunchPlan } from '../../src/fleet/types.js';
import { isFleetError, type FleetError } from '../../src/shared/errors.js';
import { JupyterClient } from '../../src/wire/client.js';
import type { WireMessage } from '../../src/wire/codec.js';
import type { ConnectionInfo } from '../../src/wire/connection-file.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const STANDIN = join(root, 'test/fixtures/llmspell-standin.mjs');
export const CRASH = join(root, 'test/fixtures/crash-on-start.mjs');
export const PYTHON = join(root, '.venv/bin/python');
export const NODE = process.execPath;

/** node -e scripts get the connection file as process.argv[1]; this makes a valid one appear. */
export const WRITE_CONN = (extra = '{}') =>
  `require('fs').writeFileSync(process.argv[1], JSON.stringify({shell_port:1,iopub_port:2,stdin_port:3,control_port:4,hb_port:5,key:'k',...${extra}}), {mode:0o600});`;

export let dir: string;
export let launched: BackendProcess[];
export let pids: number[];

/** Each test gets a fresh directory; whatever it launched is stopped after it and must be gone. */
export function useBackendProcesses(): void {
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleet-backend-'));
    launched = [];
    pids = [];
  });

  afterEach(async () => {
    // Safety net first, so a failed assertion never leaves a kernel running; then the real check.
    await Promise.all(launched.map((b) => b.stop({ graceMs: 500, killMs: 2000 })));
    for (const pid of [...pids, ...launched.map((b) => b.pid)]) expect(isGone(pid), `pid ${pid} left behind`).toBe(true);
    await rm(dir, { recursive: true, force: true });
  });
}

export function plan(overrides: Partial<LaunchPlan> & Pick<LaunchPlan, 'argv' | 'connection'>): LaunchPlan {
  const kernelId = overrides.kernelId ?? randomUUID();
  return {
    kernelId,
    requirement: { runtime: 'llmspell', provider: 'test' },
    env: {},
    interruptMode: 'signal',
    connectionFile: join(dir, 'runtime', `kernel-${kernelId}.json`),
    logFile: join(dir, 'logs', `${kernelId}.log`),
    startupTimeoutMs: 30_000,
    secretEnvKeys: [],
    ...overrides,
  };
}

export function standinPlan(overrides: Partial<LaunchPlan> = {}): LaunchPlan {
  const kernelId = randomUUID();
  const connectionFile = join(dir, 'runtime', `kernel-${kernelId}.json`);
  return plan({
    kernelId,
    connectionFile,
    connection: 'kernel-writes',
    argv: [NODE, STANDIN, 'kernel', 'start', '--port', '0', '--id', kernelId, '--connection-file', connectionFile],
    ...overrides,
  });
}

export function scriptPlan(script: string, overrides: Partial<LaunchPlan> = {}): LaunchPlan {
  const kernelId = randomUUID();
  const connectionFile = join(dir, 'runtime', `kernel-${kernelId}.json`);
  return plan({ kernelId, connectionFile, connection: 'kernel-writes', argv: [NODE, '-e', script, connectionFile], ...overrides });
}

export async function launch(p: LaunchPlan, options: Parameters<typeof BackendProcess.launch>[1] = {}): Promise<BackendProcess> {
  const backend = await BackendProcess.launch(p, options);
  launched.push(backend);
  return backend;
}

export async function launchError(p: LaunchPlan): Promise<FleetError> {
  const error = await BackendProcess.launch(p).then(
    (b) => {
      launched.push(b);
      throw new Error('launch unexpectedly succeeded');
    },
    (e: unknown) => e,
  );
  if (!isFleetError(error)) throw error;
  if (typeof error.context.pid === 'number') pids.push(error.context.pid);
  return error;
}

/** Gone, or a zombie nobody reaps (orphaned grandchildren under a non-reaping init). */
export function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z') ?? false;
  } catch {
    return true;
  }
}

/** One request on a wire client made for it. */
export async function request(conn: ConnectionInfo, msgType: string, content: object = {}): Promise<WireMessage> {
  const client = new JupyterClient({ connection: conn, channels: ['shell'] });
  try {
    return await client.request(msgType, content, { timeoutMs: 30_000 });
  } finally {
    client.close();
  }
}
