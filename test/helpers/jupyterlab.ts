/**
 * A real JupyterLab server for browser tests: `jupyter lab` from the project's venv on a port
 * the OS picks, bound to 127.0.0.1, with a token we choose, in a JupyterEnv (so its kernels find
 * the env's kernelspecs and write their connection files into the env's runtime dir).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { REPO_ROOT, type JupyterEnv } from './e2e.js';

export const JUPYTER_LAB = join(REPO_ROOT, '.venv', 'bin', 'jupyter-lab');
/** Debian's Chromium (scripts/setup.sh installs it); playwright-core downloads no browser. */
export const CHROMIUM = '/usr/bin/chromium';

export interface JupyterLab {
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  token: string;
  /** Opens `path` (relative to the server's root dir) in JupyterLab, token included. */
  labUrl(path: string): string;
  /** The REST API with the token; throws on a status other than 2xx. */
  api<T = unknown>(path: string, method?: 'GET' | 'DELETE'): Promise<T>;
  /** Everything the server printed so far (stdout and stderr interleaved). */
  output(): string;
  /** SIGTERM, then waits for the server's exit; SIGKILL and an error if it hangs. */
  stop(timeoutMs?: number): Promise<void>;
}

/**
 * JupyterLab's user settings live under JUPYTER_CONFIG_DIR, so these stay in the env: no news
 * prompt (it would fetch from the internet and cover the notebook) and no update check.
 */
export async function writeLabSettings(jenv: JupyterEnv): Promise<void> {
  const file = join(jenv.env.JUPYTER_CONFIG_DIR!, 'lab', 'user-settings', '@jupyterlab', 'apputils-extension', 'notification.jupyterlab-settings');
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ fetchNews: 'false', checkForUpdates: false }) + '\n');
}

/** The server prints its URL once it listens; with --port 0 that is where we learn the port. */
const LISTENING = /http:\/\/127\.0\.0\.1:(\d+)\//;

export async function startJupyterLab(jenv: JupyterEnv, rootDir: string, timeoutMs = 120_000): Promise<JupyterLab> {
  const token = randomBytes(24).toString('hex');
  const child = spawn(
    JUPYTER_LAB,
    [
      '--no-browser',
      '--ServerApp.ip=127.0.0.1',
      '--ServerApp.port=0',
      '--ServerApp.allow_root=True',
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${rootDir}`,
      // No language servers: the scan for them is start-up work the test does not need.
      '--LanguageServerManager.autodetect=False',
    ],
    { cwd: rootDir, env: jenv.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`jupyter lab printed no URL within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}; its output:\n${tail(output)}`));
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = LISTENING.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', fail);
    void exited.then(([code, signal]) => fail(new Error(`jupyter lab exited (${code ?? signal}) before it listened`)));
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    token,
    labUrl: (path) => `${baseUrl}/lab/tree/${path.split('/').map(encodeURIComponent).join('/')}?token=${token}`,
    api: (path, method = 'GET') => callApi(baseUrl, token, path, method),
    output: () => output,
    stop: (stopTimeoutMs = 30_000) => stopServer(child, exited, stopTimeoutMs),
  };
}

async function callApi<T>(baseUrl: string, token: string, path: string, method: 'GET' | 'DELETE'): Promise<T> {
  const response = await fetch(`${baseUrl}${path}`, { method, headers: { Authorization: `token ${token}` } });
  const body = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${body}`);
  return (body === '' ? undefined : JSON.parse(body)) as T;
}

async function stopServer(child: ChildProcess, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), timeoutMs)));
  const outcome = await Promise.race([exited, hung]);
  clearTimeout(timer);
  if (outcome === 'hung') {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`jupyter lab did not exit within ${timeoutMs} ms of SIGTERM; killed`);
  }
}

/**
 * The last `n` characters, for error messages, with very long lines cut: the server's build check
 * runs minified node scripts that fail here (the venv sits under our package.json, whose
 * "type": "module" makes node read them as ES modules) and print a whole bundle as one line.
 * Harmless: JupyterLab then only says it "could not determine jupyterlab build status".
 */
export function tail(text: string, n = 6000, maxLine = 400): string {
  const cut = text
    .split('\n')
    .map((line) => (line.length > maxLine ? `${line.slice(0, maxLine)}…` : line))
    .join('\n');
  return cut.length > n ? '…' + cut.slice(-n) : cut;
}
