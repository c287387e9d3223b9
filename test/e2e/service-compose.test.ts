/**
 * The fleet as a container and as a compose stack, with real podman: the Dockerfile built on a
 * local Node base (scripts/setup-service.sh makes it, and warms podman's layer cache so this
 * rebuild from the current sources is quick), compose.yaml run by podman-compose with a local
 * Prometheus image. Podman without systemd runs no health check on a timer: the test runs the
 * configured check with `podman healthcheck run`, which also records the container's status.
 * Everything the test creates is named lf-test-svc-<pid> and removed in afterAll.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocatePorts } from '../../src/fleet/ports.js';
import { REPO_ROOT } from '../helpers/e2e.js';
import type { CommandRun } from '../helpers/run.js';

const NODE_BASE = 'localhost/llmspell-fleet-node:20-bookworm';
const PROMETHEUS_IMAGE = 'localhost/llmspell-fleet-prometheus:local';
const IMAGE = 'localhost/llmspell-fleet:test';
const PROJECT = `lf-test-svc-${process.pid}`;
const FLEET = `${PROJECT}_fleet_1`;
const PROM = `${PROJECT}_prometheus_1`;
// This machine's runc cannot raise limits above the caller's (see scripts/setup-service.sh).
const ULIMITS = ['--ulimit', 'nofile=16384:16384', '--ulimit', 'nproc=32768:32768'];
const ULIMITS_OVERRIDE = `services:
  fleet:
    ulimits: {nofile: 16384, nproc: 32768}
  prometheus:
    ulimits: {nofile: 16384, nproc: 32768}
`;

let dir = '';
let composeEnv: NodeJS.ProcessEnv = {};
let fleetPort = 0;
let promPort = 0;
let token = '';
/** The python backend the API test spawns; the Prometheus test looks for its metrics. */
let kernelId = '';

function run(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CommandRun> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: REPO_ROOT, env: options.env ?? process.env, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
  });
}

async function must(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const done = await run(file, args, options);
  if (done.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${done.code}: ${done.stderr.slice(-2000)}`);
  return done.stdout;
}

const compose = (...args: string[]) =>
  run('podman-compose', ['-p', PROJECT, '-f', join(REPO_ROOT, 'compose.yaml'), '-f', join(dir, 'ulimits.yaml'), ...args], { env: composeEnv, timeoutMs: 180_000 });

/** Polls `probe` until it returns a value; the deadline is generous because the machine is busy, not because anything is timed. */
async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 180_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const got = await probe();
      if (got !== undefined) return got;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${fleetPort}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });
}

async function promQuery(query: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(query)}`);
  const body = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  return body.data.result;
}

beforeAll(async () => {
  for (const image of [NODE_BASE, PROMETHEUS_IMAGE]) {
    const exists = await run('podman', ['image', 'exists', image]);
    if (exists.code !== 0) throw new Error(`${image} is missing: run scripts/setup-service.sh (scripts/setup.sh runs it)`);
  }
  dir = await mkdtemp(join(tmpdir(), 'lf-test-svc-'));
  await writeFile(join(dir, 'ulimits.yaml'), ULIMITS_OVERRIDE);
  const previous = (await run('podman', ['image', 'inspect', IMAGE, '--format', '{{.Id}}'])).stdout.trim();
  // The host's CA bundle as the npm_ca secret: npm inside the build trusts what the host trusts.
  await must('podman', ['build', '-q', ...ULIMITS, '--network', 'host', '--build-arg', `BASE_IMAGE=${NODE_BASE}`, '--secret', 'id=npm_ca,src=/etc/ssl/certs/ca-certificates.crt', '-t', IMAGE, REPO_ROOT], {
    timeoutMs: 15 * 60_000,
  });
  // The image this build replaced (an older source tree) is ours and unused: drop it, not the cache.
  const built = (await must('podman', ['image', 'inspect', IMAGE, '--format', '{{.Id}}'])).trim();
  if (previous !== '' && previous !== built) await run('podman', ['rmi', previous]);
  [fleetPort, promPort] = (await allocatePorts('127.0.0.1', 2)) as [number, number];
  composeEnv = { ...process.env, LLMSPELL_FLEET_IMAGE: IMAGE, PROMETHEUS_IMAGE, LLMSPELL_FLEET_PORT: String(fleetPort), PROMETHEUS_PORT: String(promPort) };
  const up = await compose('up', '-d');
  if (up.code !== 0) throw new Error(`podman-compose up failed (${up.code}): ${up.stderr.slice(-2000)}`);
}, 20 * 60_000);

afterAll(async () => {
  if (dir !== '') await compose('down', '-v', '-t', '5');
  // What down leaves (its network) or what a failed up left behind: only this project's.
  const label = `label=io.podman.compose.project=${PROJECT}`;
  const ids = (await run('podman', ['ps', '-aq', '--filter', label])).stdout.split('\n').filter(Boolean);
  if (ids.length > 0) await run('podman', ['rm', '-f', '-t', '0', ...ids]);
  const volumes = (await run('podman', ['volume', 'ls', '-q', '--filter', label])).stdout.split('\n').filter(Boolean);
  if (volumes.length > 0) await run('podman', ['volume', 'rm', '-f', ...volumes]);
  await run('podman', ['network', 'rm', '-f', `${PROJECT}_default`]);
  if (dir !== '') await rm(dir, { recursive: true, force: true });
}, 5 * 60_000);

describe('the fleet as a compose stack (podman, podman-compose)', () => {
  it('publishes both ports on 127.0.0.1 only', async () => {
    expect((await must('podman', ['port', FLEET])).trim()).toBe(`9464/tcp -> 127.0.0.1:${fleetPort}`);
    expect((await must('podman', ['port', PROM])).trim()).toBe(`9090/tcp -> 127.0.0.1:${promPort}`);
  });

  it("the manager's health check goes healthy", async () => {
    const status = await until('the fleet container to turn healthy', async () => {
      // Runs the check compose configured (llmspell-fleet service check) and records its result.
      const checked = await run('podman', ['healthcheck', 'run', FLEET]);
      if (checked.code !== 0) return undefined;
      return (await must('podman', ['inspect', FLEET, '--format', '{{.State.Health.Status}}'])).trim();
    });
    expect(status).toBe('healthy');
    const log = await must('podman', ['inspect', FLEET, '--format', '{{json .State.Health.Log}}']);
    expect(log).toContain('manager answers');
  }, 240_000);

  it('answers its HTTP API through 127.0.0.1 and runs a python backend inside the container', async () => {
    // The manager writes the token only into its home, on the volume: ask the container for it.
    token = (await must('podman', ['exec', FLEET, 'cat', '/var/lib/llmspell-fleet/http.token'])).trim();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect((await fetch(`http://127.0.0.1:${fleetPort}/api/v1/health`)).status).toBe(401);
    // Off loopback (0.0.0.0 inside the container) /metrics wants the token too: Prometheus shows it from http.token.
    expect((await fetch(`http://127.0.0.1:${fleetPort}/metrics`)).status).toBe(401);
    expect((await api('/api/v1/health')).status).toBe(200);
    const spawned = await api('/api/v1/backends', { method: 'POST', body: JSON.stringify({ runtime: 'python', provider: 'openai', group: 'service-e2e' }) });
    expect(spawned.status).toBe(201);
    const backend = (await spawned.json()) as { kernelId: string; state: string };
    expect(backend.state).toBe('ready');
    const health = (await (await api('/api/v1/health')).json()) as { status: string; backends: Array<{ kernelId: string; heartbeat: boolean }> };
    expect(health.status).toBe('ok');
    expect(health.backends).toEqual([expect.objectContaining({ kernelId: backend.kernelId, heartbeat: true })]);
    kernelId = backend.kernelId;
  });

  it("Prometheus in the stack scrapes the manager (with the token from http.token) and has the backend's memory", async () => {
    expect(kernelId).not.toBe('');
    const up = await until('Prometheus to scrape the fleet', async () => {
      const result = await promQuery('up{job="llmspell-fleet"}');
      return result[0]?.value[1] === '1' ? result[0] : undefined;
    });
    expect(up.metric.instance).toBe('fleet:9464');
    const memory = await until("the backend's memory in Prometheus", async () => {
      const result = await promQuery(`llmspell_fleet_backend_resident_memory_bytes{kernel_id="${kernelId}"}`);
      return result.length > 0 ? result : undefined;
    });
    expect(memory[0]?.metric).toMatchObject({ runtime: 'python', provider: 'openai', group: 'service-e2e' });
    expect(Number(memory[0]?.value[1])).toBeGreaterThan(10 * 1024 * 1024);
  }, 400_000);
});
